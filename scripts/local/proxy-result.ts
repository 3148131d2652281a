// The function's result as API Gateway (REST API, Lambda proxy integration, payload 1.0)
// answers it: headers merged, body decoded, or "Malformed Lambda proxy response".
export interface HttpAnswer {
  statusCode: number;
  /** Header name (as the function spelled it) to its values. */
  headers: Map<string, string[]>;
  body: Buffer;
}

export class MalformedResultError extends Error {
  override name = "MalformedResultError";
}

const allowedResultKeys = new Set([
  "statusCode",
  "headers",
  "multiValueHeaders",
  "body",
  "isBase64Encoded",
]);

// What HTTP/1.1 can carry (RFC 9110 5.1, 5.5): a token for the name; for the value no
// control character but tab. Node refuses anything else when it writes the answer, by then
// too late for anything but a broken connection.
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const invalidValueCharacter = /[^\t\x20-\x7e\x80-\xff]/;

function headerText(value: unknown, where: string): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean") text = String(value);
  else throw new MalformedResultError(`${where} must be a string`);
  if (invalidValueCharacter.test(text)) {
    throw new MalformedResultError(`${where} holds a character HTTP does not allow`);
  }
  return text;
}

/**
 * The function's result as API Gateway answers it, or MalformedResultError where API
 * Gateway would log "Malformed Lambda proxy response" and answer 502.
 */
export function mapLambdaResult(payload: string): HttpAnswer {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    throw new MalformedResultError("the result is not JSON");
  }
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    throw new MalformedResultError(`the result is ${JSON.stringify(result)}, not an object`);
  }
  const fields = result as Record<string, unknown>;
  const unexpected = Object.keys(fields).filter((key) => !allowedResultKeys.has(key));
  if (unexpected.length > 0) {
    throw new MalformedResultError(`unexpected field(s) ${unexpected.join(", ")}`);
  }
  const statusCode = Number(fields.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedResultError(`statusCode ${JSON.stringify(fields.statusCode)} is not valid`);
  }
  if (fields.body !== undefined && fields.body !== null && typeof fields.body !== "string") {
    throw new MalformedResultError("body must be a string");
  }

  // Where both name a header, multiValueHeaders wins (API Gateway's documented merge).
  const headers = new Map<string, string[]>();
  // Lower-cased name to the spelling kept: one lookup per header, not a scan of the others.
  const spellings = new Map<string, string>();
  const setHeader = (name: string, values: string[]) => {
    if (!headerName.test(name)) {
      throw new MalformedResultError(`header name ${JSON.stringify(name)} is not an HTTP token`);
    }
    const lower = name.toLowerCase();
    const previous = spellings.get(lower);
    if (previous !== undefined) headers.delete(previous);
    spellings.set(lower, name);
    headers.set(name, values);
  };
  if (fields.headers !== undefined && fields.headers !== null) {
    if (typeof fields.headers !== "object") throw new MalformedResultError("headers must be a map");
    for (const [name, value] of Object.entries(fields.headers)) {
      setHeader(name, [headerText(value, `header ${name}`)]);
    }
  }
  if (fields.multiValueHeaders !== undefined && fields.multiValueHeaders !== null) {
    if (typeof fields.multiValueHeaders !== "object") {
      throw new MalformedResultError("multiValueHeaders must be a map");
    }
    for (const [name, values] of Object.entries(fields.multiValueHeaders)) {
      if (!Array.isArray(values)) {
        throw new MalformedResultError(`multiValueHeaders ${name} must be a list`);
      }
      setHeader(
        name,
        values.map((value) => headerText(value, `multiValueHeaders ${name}`)),
      );
    }
  }

  const text = typeof fields.body === "string" ? fields.body : "";
  const body = fields.isBase64Encoded === true ? Buffer.from(text, "base64") : Buffer.from(text);
  return { statusCode, headers, body };
}
