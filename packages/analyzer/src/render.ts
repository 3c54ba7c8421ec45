// Query results → stdout as a table (cli-table3), JSON (an array of row objects keyed by column
// name) or CSV. JSON and CSV stream chunk by chunk; a table needs all rows to size its columns.
import type TableType from 'cli-table3';
import { Table } from './cjs.js';
import type { DuckDBResult, DuckDBType } from '@duckdb/node-api';
import type { Output } from './output.js';
import { type Convert, type Value, cellText, converterFor, isNumericType } from './values.js';

export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface Column {
  name: string;
  numeric: boolean;
  convert: Convert;
}

function columnsOf(names: string[], types: DuckDBType[]): Column[] {
  return names.map((name, i) => ({ name, numeric: isNumericType(types[i]), convert: converterFor(types[i]) }));
}

/** Receives rows chunk by chunk. */
export interface Sink {
  begin(columns: Column[]): Promise<void>;
  rows(rows: Value[][]): Promise<void>;
  end(): Promise<void>;
}

/** Colors only for a terminal, and never under NO_COLOR (https://no-color.org). */
function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

class JsonSink implements Sink {
  private columns: Column[] = [];
  private first = true;
  constructor(private readonly out: Output) {}

  async begin(columns: Column[]): Promise<void> {
    this.columns = columns;
  }

  async rows(rows: Value[][]): Promise<void> {
    let text = '';
    for (const row of rows) {
      const obj: Record<string, Value> = {};
      this.columns.forEach((c, i) => (obj[c.name] = row[i]));
      text += (this.first ? '[\n' : ',\n') + JSON.stringify(obj);
      this.first = false;
    }
    if (text) await this.out.write(text);
  }

  async end(): Promise<void> {
    await this.out.write(this.first ? '[]\n' : '\n]\n');
  }
}

function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

class CsvSink implements Sink {
  constructor(private readonly out: Output) {}

  async begin(columns: Column[]): Promise<void> {
    await this.out.write(columns.map((c) => csvField(c.name)).join(',') + '\n');
  }

  async rows(rows: Value[][]): Promise<void> {
    let text = '';
    for (const row of rows) text += row.map((v) => csvField(cellText(v))).join(',') + '\n';
    if (text) await this.out.write(text);
  }

  async end(): Promise<void> {}
}

/** A boxed table; `vertical` prints one row as field/value lines (skbtrail info). */
export class TableSink implements Sink {
  private columns: Column[] = [];
  private readonly all: Value[][] = [];
  constructor(
    private readonly out: Output,
    private readonly vertical = false,
  ) {}

  async begin(columns: Column[]): Promise<void> {
    this.columns = columns;
  }

  async rows(rows: Value[][]): Promise<void> {
    for (const row of rows) this.all.push(row);
  }

  async end(): Promise<void> {
    const style = { head: useColor() ? ['bold'] : [], border: [], compact: true };
    let table: TableType.Table;
    if (this.vertical) {
      // Long values (the probe list) wrap within the terminal's width, or 100 columns.
      const width = process.stdout.columns ?? 100;
      const keyWidth = Math.max(...this.columns.map((c) => c.name.length)) + 2;
      table = new Table({ style, wordWrap: true, colWidths: [keyWidth, Math.max(20, width - keyWidth - 3)] });
      for (const row of this.all) {
        this.columns.forEach((c, i) => table.push({ [c.name]: cellText(row[i]) }));
      }
    } else {
      table = new Table({
        head: this.columns.map((c) => c.name),
        colAligns: this.columns.map((c) => (c.numeric ? 'right' : 'left')),
        style,
      });
      for (const row of this.all) table.push(row.map(cellText));
    }
    await this.out.write(this.all.length === 0 && !this.vertical ? '(no rows)\n' : `${table.toString()}\n`);
  }
}

export function sinkFor(format: Format, out: Output): Sink {
  return format === 'json' ? new JsonSink(out) : format === 'csv' ? new CsvSink(out) : new TableSink(out);
}

/** Streams a DuckDB result into a sink. */
export async function renderResult(result: DuckDBResult, sink: Sink): Promise<void> {
  const columns = columnsOf(result.deduplicatedColumnNames(), result.columnTypes());
  await sink.begin(columns);
  for await (const rows of result.yieldRowsJson()) {
    await sink.rows(rows.map((row) => row.map((v, i) => columns[i].convert(v))));
  }
  await sink.end();
}
