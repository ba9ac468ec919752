import { formatDuration, parseDuration } from '../../../src/model/duration.js';

describe('parseDuration', () => {
  it.each([
    ['300', 300],
    ['300s', 300],
    ['5m', 300],
    ['1h30m', 5400],
    ['7d', 604800],
    ['1d12h', 129600],
    ['2w', 1209600],
    [' 90S ', 90],
    ['0', 0],
    ['1h0m5s', 3605],
  ])('reads %j as %d seconds', (input, seconds) => {
    expect(parseDuration(input, 'input "ttl"')).toBe(seconds);
  });

  it.each([
    ['', /input "ttl": "" is not a duration: it is empty/],
    ['1.5h', /fractions are not supported/],
    ['5x', /unknown unit "x"/],
    ['5min', /unknown unit "min"/],
    ['30m1h', /largest first \("h" is out of place\)/],
    ['1h1h', /largest first/],
    ['-5m', /does not match NUMBER\+UNIT/],
    ['h', /does not match/],
    ['5 m', /does not match/],
    ['99999999999999999999', /too large/],
  ])('refuses %j naming the input', (input, message) => {
    expect(() => parseDuration(input, 'input "ttl"')).toThrow(message);
    expect(() => parseDuration(input, 'input "ttl"')).toThrow(/input "ttl"/);
  });

  it.each([
    [0, '0s'],
    [59, '59s'],
    [5400, '1h30m'],
    [604800 + 3600, '1w1h'],
  ])('formats %d seconds as %s, which parses back', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text, 'x')).toBe(seconds);
  });
});
