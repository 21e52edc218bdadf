/**
 * The fault suite's options (test/faults/options.ts) and burst mode's cuts (test/faults/timeline.ts):
 * the mode picks the defaults, an explicit option wins, the API is a fault kind, and each fault
 * fires inside a burst of its own.
 */
import { burstDefaults, pacedDefaults, parseFaults, parseOptions } from '../faults/options';
import { burstSegments } from '../faults/timeline';

describe('fault suite options', () => {
  it('keeps the paced defaults when no mode is given', () => {
    const o = parseOptions([], {});
    expect(o.mode).toBe('paced');
    expect(o.concurrency).toBe(pacedDefaults.concurrency);
    expect(o.rate).toBe(pacedDefaults.rate);
    expect(o.faults.map((f) => f.kind)).toEqual(['worker', 'temporal', 'postgres']);
  });

  it('burst mode sends unpaced, 64 in flight, with every fault kind, and explicit options win', () => {
    const o = parseOptions(['--mode=burst', '--events=600'], { FAULTS_CONCURRENCY: '48' });
    expect(o).toMatchObject({ mode: 'burst', events: 600, concurrency: 48, rate: burstDefaults.rate, minSendSeconds: 0 });
    expect(o.faults.map((f) => f.kind)).toEqual(['api', 'worker', 'temporal', 'postgres']);
    expect(parseOptions(['--mode=burst'], {}).concurrency).toBe(64);
  });

  it('parses an api fault and refuses an unknown kind', () => {
    expect(parseFaults('api@0.5:1500ms')).toEqual([{ kind: 'api', at: 0.5, downMs: 1500 }]);
    expect(() => parseFaults('dns@0.5:1s')).toThrow(/kind@share:down/);
  });
});

describe('burst segments', () => {
  it('cuts half-way between faults, so each fires inside its own burst', () => {
    const faults = parseFaults(burstDefaults.faults);
    const ends = burstSegments(faults, 1000);
    expect(ends).toEqual([225, 475, 725, 1000]);
    faults.forEach((f, i) => {
      const from = i === 0 ? 0 : ends[i - 1]!;
      expect(f.at * 1000).toBeGreaterThan(from);
      expect(f.at * 1000).toBeLessThan(ends[i]!);
    });
  });

  it('is one burst without faults or with one', () => {
    expect(burstSegments([], 500)).toEqual([500]);
    expect(burstSegments(parseFaults('worker@0.5:1s'), 500)).toEqual([500]);
  });
});
