// GitHub's own OpenAPI description (api.github.com) as the emulator's contract: route matching,
// parameter and body validation, and response-shape checks. Loaded once per process (13 MB JSON,
// ~200 ms) and shared by every emulator instance; ajv validators are compiled lazily per
// operation and cached because compiling the whole description would take minutes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
}

export interface Operation {
  method: string;
  pathTemplate: string;
  operationId: string;
  docsUrl: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; schema?: JsonObject };
  responses: Record<string, JsonObject | undefined>;
}

export interface RouteMatch {
  operation: Operation;
  pathParams: Record<string, string>;
}

export interface ValidationProblem {
  message: string;
}

const SPEC_ID = 'https://api.github.com/openapi.json';

// ajv-formats ships CJS with `export default`; under NodeNext the default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

interface Route {
  segments: string[]; // literal segments, or '' where a {param} sits
  paramNames: (string | undefined)[];
  literalCount: number;
  methods: Map<string, Operation>;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// OpenAPI 3.0 → JSON Schema for ajv: `nullable` without `type` (next to oneOf/allOf/$ref) is not
// something ajv understands, so it becomes anyOf [schema, null]; local refs are made absolute so
// operation schemas compiled on their own still resolve into the components document.
function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out[key] = SPEC_ID + value;
    else if (key === 'example' || key === 'examples' || key === 'description') continue;
    else out[key] = toJsonSchema(value);
  }
  if (out['nullable'] === true && out['type'] === undefined) {
    delete out['nullable'];
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

export class GitHubSpec {
  private readonly routes: Route[] = [];
  private readonly ajvBody: Ajv;
  private readonly ajvParams: Ajv;
  private readonly ajvResponse: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();
  readonly operationCount: number;

  constructor(doc: JsonObject) {
    const paths = doc['paths'] as Record<string, JsonObject>;
    const components = doc['components'] as JsonObject;
    const componentParams = components['parameters'] as Record<string, JsonObject>;
    const componentResponses = components['responses'] as Record<string, JsonObject>;
    const deref = (value: JsonObject, table: Record<string, JsonObject>): JsonObject => {
      const ref = value['$ref'];
      if (typeof ref !== 'string') return value;
      const name = ref.split('/').pop() ?? '';
      const target = table[name];
      if (!target) throw new Error(`openapi: cannot resolve ${ref}`);
      return target;
    };
    let count = 0;
    for (const [template, item] of Object.entries(paths)) {
      const parts = template.split('/').slice(1);
      const route: Route = {
        segments: parts.map((p) => (p.startsWith('{') ? '' : p)),
        paramNames: parts.map((p) => (p.startsWith('{') ? p.slice(1, -1) : undefined)),
        literalCount: parts.filter((p) => !p.startsWith('{')).length,
        methods: new Map(),
      };
      const shared = ((item['parameters'] as JsonObject[] | undefined) ?? []).map((p) =>
        deref(p, componentParams),
      );
      for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head']) {
        const op = item[method];
        if (!isObject(op)) continue;
        const params = ((op['parameters'] as JsonObject[] | undefined) ?? []).map((p) =>
          deref(p, componentParams),
        );
        const body = op['requestBody'];
        let requestBody: Operation['requestBody'];
        if (isObject(body)) {
          const content = body['content'];
          const json = isObject(content) ? content['application/json'] : undefined;
          requestBody = {
            required: body['required'] === true,
            schema: isObject(json) && isObject(json['schema']) ? json['schema'] : undefined,
          };
        }
        const responses: Record<string, JsonObject | undefined> = {};
        for (const [status, resp] of Object.entries((op['responses'] as JsonObject | undefined) ?? {})) {
          const r = isObject(resp) ? deref(resp, componentResponses) : {};
          const content = r['content'];
          const json = isObject(content) ? content['application/json'] : undefined;
          responses[status] = isObject(json) && isObject(json['schema']) ? json['schema'] : undefined;
        }
        // GitHub accepts `can_admins_bypass` when creating or updating an environment (google/go-github
        // #2725) though the description does not list it under a body with additionalProperties: false.
        if (
          op['operationId'] === 'repos/create-or-update-environment' &&
          isObject(requestBody?.schema?.['properties'])
        )
          requestBody!.schema!['properties'] = {
            ...(requestBody!.schema!['properties'] as JsonObject),
            can_admins_bypass: { type: 'boolean' },
          };
        const docs = op['externalDocs'];
        route.methods.set(method.toUpperCase(), {
          method: method.toUpperCase(),
          pathTemplate: template,
          operationId: String(op['operationId']),
          docsUrl:
            isObject(docs) && typeof docs['url'] === 'string' ? docs['url'] : 'https://docs.github.com/rest',
          parameters: [...shared, ...params] as unknown as Parameter[],
          requestBody,
          responses,
        });
        count++;
      }
      this.routes.push(route);
    }
    this.operationCount = count;
    // More literal segments first, so /issues/comments/{id} wins over /issues/{number}/… shapes.
    this.routes.sort((a, b) => b.literalCount - a.literalCount);

    const componentsDoc = toJsonSchema({
      components: { schemas: components['schemas'] ?? {} },
    }) as JsonObject;
    const make = (coerce: boolean, doc: JsonObject = componentsDoc): Ajv => {
      const ajv = new Ajv({
        strict: false,
        allErrors: false,
        validateSchema: false,
        coerceTypes: coerce ? 'array' : false,
        useDefaults: false,
      });
      addFormats(ajv);
      ajv.addSchema({ ...doc, $id: SPEC_ID });
      return ajv;
    };
    this.ajvBody = make(false);
    this.ajvParams = make(true);
    // GitHub writes deployment statuses in state `waiting` for a job held by an environment's required
    // reviewers (seen in deployment_status webhooks, octokit/webhooks.net#52, and in list-statuses
    // replies, CloudSnorkel/cdk-github-runners#416), though the description's enum lacks it. Responses
    // may carry it; requests still may not (create-deployment-status has its own inline enum).
    const responseDoc = JSON.parse(JSON.stringify(componentsDoc)) as JsonObject;
    const schemas = (responseDoc['components'] as JsonObject)['schemas'] as Record<string, JsonObject>;
    const status = schemas['deployment-status']?.['properties'] as Record<string, JsonObject> | undefined;
    const state = status?.['state'];
    if (state && Array.isArray(state['enum'])) state['enum'] = [...state['enum'], 'waiting'];
    this.ajvResponse = make(false, responseDoc);
    // GitHub itself answers "" for unset URL fields the description marks `format: uri`
    // (deployment statuses' target_url/environment_url/log_url default to ""), so the response
    // check accepts an empty string there; requests are still held to the strict format.
    this.ajvResponse.addFormat('uri', {
      type: 'string',
      validate: (s: string) => s === '' || URL.canParse(s),
    });
  }

  match(method: string, pathname: string): { match?: RouteMatch; pathExists: boolean } {
    const parts = pathname.split('/').slice(1);
    let pathExists = false;
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const name = route.paramNames[i];
        const part = parts[i] ?? '';
        if (name === undefined) {
          if (route.segments[i] !== part) {
            ok = false;
            break;
          }
        } else {
          if (part === '') {
            ok = false;
            break;
          }
          try {
            params[name] = decodeURIComponent(part);
          } catch {
            ok = false;
            break;
          }
        }
      }
      if (!ok) continue;
      pathExists = true;
      const operation = route.methods.get(method);
      if (operation) return { match: { operation, pathParams: params }, pathExists };
    }
    return { pathExists };
  }

  private compile(key: string, ajv: Ajv, schema: JsonObject): ValidateFunction {
    let fn = this.cache.get(key);
    if (!fn) {
      fn = ajv.compile(toJsonSchema(schema) as JsonObject);
      this.cache.set(key, fn);
    }
    return fn;
  }

  /** Path and query parameters: returns the coerced values, or the first problem in GitHub's words. */
  validateParams(
    op: Operation,
    pathParams: Record<string, string>,
    query: URLSearchParams,
  ): { values: Record<string, unknown>; problem?: string } {
    const values: Record<string, unknown> = {};
    for (const p of op.parameters) {
      if (p.in !== 'path' && p.in !== 'query') continue;
      let raw: unknown;
      if (p.in === 'path') raw = pathParams[p.name];
      else {
        const all = query.getAll(p.name);
        raw =
          all.length === 0
            ? undefined
            : p.schema?.['type'] === 'array'
              ? all.flatMap((v) => v.split(','))
              : all[0];
      }
      if (raw === undefined) {
        // Defaults are left to the handlers: some documented ones are placeholders (deployments'
        // sha/ref/task/environment default to the string "none").
        if (p.required) return { values, problem: `"${p.name}" wasn't supplied.` };
        continue;
      }
      if (!p.schema) {
        values[p.name] = raw;
        continue;
      }
      const holder: Record<string, unknown> = { v: raw };
      const fn = this.compile(`param:${op.operationId}:${p.name}`, this.ajvParams, {
        type: 'object',
        properties: { v: p.schema },
      });
      if (!fn(holder)) return { values, problem: describe(fn.errors ?? [], raw, p.name) };
      values[p.name] = holder['v'];
    }
    return { values };
  }

  validateBody(op: Operation, body: unknown): string | undefined {
    const rb = op.requestBody;
    if (!rb) return undefined;
    if (body === undefined && !rb.required) return undefined;
    if (!rb.schema) return undefined;
    // An empty body on a required object body reads like `{}` to GitHub: the message names the
    // first missing field ("\"body\" wasn't supplied.") rather than the absent document.
    if (body === undefined) body = rb.schema['type'] === 'object' ? {} : body;
    if (rb.schema['type'] === 'object' && !isObject(body)) return 'Body should be a JSON object';
    const fn = this.compile(`body:${op.operationId}`, this.ajvBody, rb.schema);
    if (fn(body)) return undefined;
    return describe(fn.errors ?? [], body);
  }

  /** For tests: does a generated response match the documented schema for this status? */
  validateResponse(op: Operation, status: number, body: unknown): string | undefined {
    if (!(String(status) in op.responses)) return `status ${status} is not documented for ${op.operationId}`;
    const schema = op.responses[String(status)];
    if (!schema) return undefined;
    const fn = this.compile(`resp:${op.operationId}:${status}`, this.ajvResponse, schema);
    if (fn(body)) return undefined;
    return (fn.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
      .join('; ');
  }
}

// GitHub's validation messages: `"body" wasn't supplied.`, `For 'properties/body', 5 is not a string.`,
// `No subschema in "anyOf" matched.`
function describe(errors: ErrorObject[], data: unknown, paramName?: string): string {
  const e = errors[0];
  if (!e) return 'Invalid request.';
  const pointer = e.instancePath.replace(/^\/v(?=\/|$)/, '');
  const path = pointer
    .split('/')
    .slice(1)
    .map((s) => `properties/${s}`)
    .join('/');
  const where = paramName ?? (path || 'items');
  const valueAt = (): unknown => {
    if (paramName !== undefined) return data;
    let cur: unknown = data;
    for (const seg of pointer.split('/').slice(1))
      cur = isObject(cur) || Array.isArray(cur) ? (cur as never)[seg] : undefined;
    return cur;
  };
  switch (e.keyword) {
    case 'required':
      return `"${String((e.params as { missingProperty: string }).missingProperty)}" wasn't supplied.`;
    case 'type':
      return `For '${where}', ${JSON.stringify(valueAt())} is not ${article(String((e.params as { type: string }).type))}.`;
    case 'enum':
      return `For '${where}', ${JSON.stringify(valueAt())} is not a member of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}.`;
    case 'anyOf':
    case 'oneOf':
      return `No subschema in "${e.keyword}" matched.`;
    case 'additionalProperties':
      return `"${String((e.params as { additionalProperty: string }).additionalProperty)}" is not a permitted key.`;
    default:
      return `For '${where}', ${JSON.stringify(valueAt())} ${e.message ?? 'is invalid'}.`;
  }
}

function article(type: string): string {
  const t = type.split(',')[0] ?? type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

let shared: GitHubSpec | undefined;

export function loadGitHubSpec(): GitHubSpec {
  if (!shared) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    shared = new GitHubSpec(JSON.parse(readFileSync(file, 'utf8')) as JsonObject);
  }
  return shared;
}
