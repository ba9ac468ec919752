// The emulator's PKI, as kubeadm/kind lay it out: a cluster CA, the API server's serving
// certificate, and client certificates for tests. Fixed (generated once with openssl, valid ten
// years) so that nothing is generated at start; these keys protect nothing but a test bed.
// kubectl sends credentials (token, client certificate) only over TLS, so the API server listens
// on HTTPS for kubeconfig users and its authentication is real.

/** The cluster CA (also what kube-root-ca.crt publishes); it signed the two certificates below. */
export const CA_CERT = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUS763Y0h+BAyY6XN8wUa7JMcP2KgwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMzAxODQ1NDZaFw0zNjExMjcx
ODQ1NDZaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASG7o4SF4tGjDB12+xQvAjhKda/LtNcGGMN9oLK6QPOEM9whYFT+aty
JZQBF0YTJFmvMpOEP6Gr/afsMBrCPvFjo2MwYTAdBgNVHQ4EFgQUB7JMutCjwHVs
/+XJIOf7ed01De0wHwYDVR0jBBgwFoAUB7JMutCjwHVs/+XJIOf7ed01De0wDwYD
VR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAqQwCgYIKoZIzj0EAwIDSAAwRQIh
ALrdeiYKoRkYghWrcQc9EZrsktvXmns9ckhXd8Dz3BY2AiB2KUIE3vqA2JUxfmPq
pg6e+DwWTG0bHBtV/RNStqifmg==
-----END CERTIFICATE-----
`;

/** The API server serving certificate: 127.0.0.1, localhost, kubernetes.default.svc, 10.96.0.1. */
export const SERVER_CERT = `-----BEGIN CERTIFICATE-----
MIIB8jCCAZmgAwIBAgIUGMJVvlAR2x0DJCYOUPwUkPh4/8EwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMzAxODQ1NDZaFw0zNjExMjcx
ODQ1NDZaMBkxFzAVBgNVBAMMDmt1YmUtYXBpc2VydmVyMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEU9jcRpF2ISjCvgsEuoZINHOz5GboBNv1+hP2jDyd2+EjmwnR
bIah66p4T8DmbMcYP/jJnfOXyou1xLbu74sQhaOBwjCBvzBYBgNVHREEUTBPhwR/
AAABgglsb2NhbGhvc3SCCmt1YmVybmV0ZXOCEmt1YmVybmV0ZXMuZGVmYXVsdIIW
a3ViZXJuZXRlcy5kZWZhdWx0LnN2Y4cECmAAATATBgNVHSUEDDAKBggrBgEFBQcD
ATAOBgNVHQ8BAf8EBAMCBaAwHQYDVR0OBBYEFI2m3Ylqeaktj0LuSjCeG+lfsjgZ
MB8GA1UdIwQYMBaAFAeyTLrQo8B1bP/lySDn+3ndNQ3tMAoGCCqGSM49BAMCA0cA
MEQCIDRZ2f1sxalYaZ1gMvx+4WGsCwt165yf/+Pf2sRHWFi+AiA62NFe03qmE/WO
8ItIous9PzP4ytlGOaJWQH/Q6aLeaA==
-----END CERTIFICATE-----
`;

export const SERVER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguKeLa4f8yA+I3gup
eBs9roKvSZYs/BsavR/M32JpnHihRANCAART2NxGkXYhKMK+CwS6hkg0c7PkZugE
2/X6E/aMPJ3b4SObCdFshqHrqnhPwOZsxxg/+Mmd85fKi7XEtu7vixCF
-----END PRIVATE KEY-----
`;

/** A client certificate the CA signed: CN=kubernetes-admin, O=system:masters (kind's admin). */
export const ADMIN_CLIENT_CERT = `-----BEGIN CERTIFICATE-----
MIIBszCCAVigAwIBAgIUGMJVvlAR2x0DJCYOUPwUkPh4/8IwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMzAxODQ1NDZaFw0zNjExMjcx
ODQ1NDZaMDQxFzAVBgNVBAoMDnN5c3RlbTptYXN0ZXJzMRkwFwYDVQQDDBBrdWJl
cm5ldGVzLWFkbWluMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfh5UmNobRRGZ
+mMZY4f8KsO+0NYKhsQSNV/SIa6oLtIEZ9DHYFm+9JsVwpLqPqCOAIFvXVaBztFO
fmZc8LE9UaNnMGUwEwYDVR0lBAwwCgYIKwYBBQUHAwIwDgYDVR0PAQH/BAQDAgWg
MB0GA1UdDgQWBBS9hZyV2L/McXsI3OkClGVaVCSNcDAfBgNVHSMEGDAWgBQHsky6
0KPAdWz/5ckg5/t53TUN7TAKBggqhkjOPQQDAgNJADBGAiEAtgqEjpRfJsLOMgjE
KVnzEjuSMKi4ANOehM1BlORdGDQCIQDtbNSD2jIfAd3kiwNWrqdYEp8u/vIuQliv
uauP8IXwFQ==
-----END CERTIFICATE-----
`;

export const ADMIN_CLIENT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJIhylpBg/m//hRU/
8jo0cnlA9Z1R5nZH8x6rim42Oz6hRANCAAR+HlSY2htFEZn6Yxljh/wqw77Q1gqG
xBI1X9Ihrqgu0gRn0MdgWb70mxXCkuo+oI4AgW9dVoHO0U5+ZlzwsT1R
-----END PRIVATE KEY-----
`;

/** A self-signed client certificate with the same subject: a real server answers it with 401. */
export const ROGUE_CLIENT_CERT = `-----BEGIN CERTIFICATE-----
MIIBvTCCAWOgAwIBAgIUbGggdy+/XyG+kS453VL+B01OSWkwCgYIKoZIzj0EAwIw
NDEXMBUGA1UECgwOc3lzdGVtOm1hc3RlcnMxGTAXBgNVBAMMEGt1YmVybmV0ZXMt
YWRtaW4wHhcNMjYxMTMwMTg0NTQ2WhcNMzYxMTI3MTg0NTQ2WjA0MRcwFQYDVQQK
DA5zeXN0ZW06bWFzdGVyczEZMBcGA1UEAwwQa3ViZXJuZXRlcy1hZG1pbjBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABJ/PnN803VTjFrB94SrHkXvUUack2pTJXGEt
qg7+WfLfAaq35lINbNQjBsYSR1H4hXxuMe9fTPduah6NsoZqfemjUzBRMB0GA1Ud
DgQWBBQa+xz2KxU0aDb3ZOB0C/83pQIDVzAfBgNVHSMEGDAWgBQa+xz2KxU0aDb3
ZOB0C/83pQIDVzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEfY
TLMAfW0Vf/9XDxU8Lr/IZAWc3J3Do6sxZaOoIdezAiEAuPKNyxcikRL04q+50Eez
8UGp6nPQZiBaBrq1NhEW4vg=
-----END CERTIFICATE-----
`;

export const ROGUE_CLIENT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXokdve8nB3uqEaZN
BVqc4pMkDUlfrYRMCy4zErr49r+hRANCAASfz5zfNN1U4xawfeEqx5F71FGnJNqU
yVxhLaoO/lny3wGqt+ZSDWzUIwbGEkdR+IV8bjHvX0z3bmoejbKGan3p
-----END PRIVATE KEY-----
`;
