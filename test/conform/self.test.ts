import { runConformance } from '../../src/conform/runner';
import { selfAdapterLink } from '../../src/conform/selfAdapter';

describe('conform --self: the package\'s own client through its own adapter', () => {
  it('passes every model and wire case at max count 3, Hawk included', async () => {
    const result = await runConformance({ adapter: { describe: 'self', link: selfAdapterLink }, quietMs: 100, jobs: 6 });
    const failed = result.cases.filter((c) => c.status !== 'passed');
    expect(failed.map((c) => `${c.id}: ${JSON.stringify(c.divergence ?? c.reason)}`)).toEqual([]);
    expect(result.cases.filter((c) => c.kind === 'wire')).toHaveLength(18);
    expect(result.cases.filter((c) => c.id.startsWith('model:unknown:')).map((c) => c.id)).toEqual(expect.arrayContaining(['model:unknown:Session.StreamDestroyed', 'model:unknown:Publisher.StreamDestroyed', 'model:unknown:Sesssion.connectionCreated', 'model:unknown:session.connectioncreated']));
    // three-party transitions are in at the default max count
    expect(result.cases.map((c) => c.id)).toContain('model:sendrecv|Session.connectionCreated|0');
  });
});
