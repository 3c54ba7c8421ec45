// The CommonJS packages the analyzer uses, loaded with require: importing a CommonJS package
// as an ES module makes Node analyze every one of its files for named exports, which doubled
// the ~180-file @duckdb/node-api's share of a command's start on the reference VM.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const duckdb = require('@duckdb/node-bindings') as typeof import('@duckdb/node-bindings');
export const duckdbApi = require('@duckdb/node-api') as typeof import('@duckdb/node-api');
export const commander = require('commander') as typeof import('commander');
export const Table = require('cli-table3') as typeof import('cli-table3');
