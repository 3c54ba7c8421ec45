// DuckDB result values → what the JSON/CSV/table renderers print: 64/128-bit integers as
// numbers when they fit a double exactly, else strings; timestamps as ISO-8601 (UTC).
import type { DuckDBType, Json } from '@duckdb/node-api';
import { duckdbApi } from './cjs.js';

const { DuckDBTypeId } = duckdbApi;

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Convert = (v: Json) => Value;

const BIG_INTEGERS = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);
const TIMESTAMPS = new Set([DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_MS, DuckDBTypeId.TIMESTAMP_NS]);

function bigInteger(v: Json): Value {
  if (typeof v !== 'string') return v as Value;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

/** '2025-11-23 12:00:00.123456789' (DuckDB's text) → '2025-11-23T12:00:00.123456789Z'. */
function timestamp(v: Json): Value {
  return typeof v === 'string' && /^\d{4,}-\d\d-\d\d \d/.test(v) ? `${v.replace(' ', 'T')}Z` : (v as Value);
}

/** '... 12:00:00+00' → '...T12:00:00+00:00' */
function timestampTz(v: Json): Value {
  if (typeof v !== 'string') return v as Value;
  const m = /^(\d{4,}-\d\d-\d\d) (\S+?)([+-]\d\d)(?::?(\d\d))?$/.exec(v);
  return m ? `${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}` : v;
}

export function converterFor(type: DuckDBType): Convert {
  if (BIG_INTEGERS.has(type.typeId)) return bigInteger;
  if (TIMESTAMPS.has(type.typeId)) return timestamp;
  if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ) return timestampTz;
  return (v) => v as Value;
}

/** A cell's text in table and CSV output. */
export function cellText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function isNumericType(type: DuckDBType): boolean {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return true;
    default:
      return false;
  }
}
