// The tuple `skbtrail record --live` prints, from one event's captured bytes.
import { describe, expect, it } from 'vitest';
import { tupleOf } from '../src/live.js';

const OFF_NONE = 0xffff;
const udp4 = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 1, 1, 10, 0, 1, 2, 0x13, 0x88, 0x15, 0xb3, 0, 8, 0, 0];
const netlink = [0x4c, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0];

describe('the --live tuple', () => {
  it('reads IP at skb->data when the skb says it is IP, and nothing from a netlink message', () => {
    const ip = Uint8Array.from(udp4);
    expect(tupleOf(ip, 0, ip.length, 0x0800, 0, OFF_NONE)).toBe('10.0.1.1:5000->10.0.1.2:5555(udp)');
    const nl = Uint8Array.from(netlink);
    expect(tupleOf(nl, 0, nl.length, 0, 0, OFF_NONE)).toBe('');
  });

  it('tells IPv4 by its version nibble on the local output path, where skb->protocol is still 0', () => {
    const ip = Uint8Array.from(udp4);
    expect(tupleOf(ip, 0, ip.length, 0, 0, 0)).toBe('10.0.1.1:5000->10.0.1.2:5555(udp)');
  });
});
