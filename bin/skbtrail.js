#!/usr/bin/env node
// One command, two packages: `record` is the privileged recorder; everything else is the analyzer.
// Each side is imported only when used, so analysis never loads the native addon and recording never loads DuckDB.
const argv = process.argv.slice(2);
const cli = argv[0] === 'record' ? await import('@skbtrail/recorder/cli') : await import('@skbtrail/analyzer/cli');
process.exitCode = await cli.main(argv);
