/**
 * Canonical JSON for hashing and MACs: object keys sorted by UTF-16 code units (like
 * `Array.prototype.sort`), no whitespace, strings and numbers as `JSON.stringify` writes them,
 * object members whose value is `undefined` omitted. The same value always gives the same
 * bytes, and `canonicalJson(JSON.parse(JSON.stringify(v))) === canonicalJson(v)` for every value
 * it accepts, so a MAC computed before storing verifies after a JSON round trip.
 *
 * It refuses what JSON cannot carry faithfully (throws TypeError): non-finite numbers,
 * bigint, functions, symbols, `undefined` inside arrays, and objects that are not plain
 * (Date, Map, class instances…) — convert those explicitly first.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is ${value}, not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value
          .map((item, i) => {
            if (item === undefined) throw new TypeError(`canonicalJson: ${path}[${i}] is undefined`);
            return write(item, `${path}[${i}]`);
          })
          .join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${path} is not a plain object`);
      }
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (v === undefined) continue;
        members.push(`${JSON.stringify(key)}:${write(v, `${path}.${key}`)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${path} is a ${typeof value}, not JSON`);
  }
}
