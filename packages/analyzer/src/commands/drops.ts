// skbtrail drops: why and where packets died, most frequent first.
import { type CommandIo, type FormatOptions, renderSqlAs, withSession } from './common.js';

export const DROPS_SQL = `
SELECT
  reason,
  location,
  coalesce(netns_name, CAST(netns AS VARCHAR)) AS netns,
  coalesce(ifname, CASE WHEN ifindex <> 0 THEN CAST(ifindex AS VARCHAR) END) AS ifname,
  count(*) AS count,
  min(time) AS first,
  max(time) AS last
FROM events
WHERE reason IS NOT NULL
GROUP BY ALL
ORDER BY count DESC, reason, location, netns, ifname`;

export async function drops(file: string, opts: FormatOptions, io: CommandIo): Promise<void> {
  await withSession(file, io, (session) => renderSqlAs(session, DROPS_SQL, opts.format, io));
}
