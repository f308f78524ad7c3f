// The import direction of docs/architecture.md, checked by `npm run lint`. Each layer lists what it may
// import; everything else in src/ is refused, and so is any cycle.
const layers = {
  api: ['api'],
  schedule: ['api/types\\.ts', 'contracts\\.ts', 'schedule'],
  validation: ['api', 'schedule', 'celery', 'validation'],
  manifests: ['api', 'manifests'],
  celery: ['api', 'contracts\\.ts', 'observe', 'celery'],
  store: ['api', 'contracts\\.ts', 'store'],
  beat: ['api', 'contracts\\.ts', 'schedule', 'celery', 'observe', 'beat'],
  kube: ['api', 'contracts\\.ts', 'observe', 'workqueue', 'kube'],
  leadership: ['contracts\\.ts', 'kube', 'store', 'observe', 'leadership'],
  standalone: ['api', 'contracts\\.ts', 'manifests', 'observe', 'standalone'],
  controller: ['api', 'contracts\\.ts', 'validation', 'schedule', 'store', 'beat', 'observe', 'workqueue', 'controller'],
  'redis-schedules': ['api', 'contracts\\.ts', 'validation', 'store', 'observe', 'redis-schedules'],
  import: ['api', 'schedule', 'validation', 'store', 'redis-schedules', 'import'],
  results: ['api', 'contracts\\.ts', 'observe', 'results'],
  observe: ['observe'],
  workqueue: ['workqueue'],
  plugin: ['api', 'contracts\\.ts', 'schedule', 'validation', 'kube', 'cli', 'plugin'],
};

const allowedPath = (names) => `^src/(${names.join('|')})(/|$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Data flows one way: a cycle means two modules decide about each other.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'contracts-are-a-leaf',
      severity: 'error',
      comment: 'src/contracts.ts holds the interfaces between layers and depends only on the resource types.',
      from: { path: '^src/contracts\\.ts$' },
      to: { path: '^src/', pathNot: '^src/api/types\\.ts$' },
    },
    {
      name: 'resource-types-are-a-leaf',
      severity: 'error',
      from: { path: '^src/api/types\\.ts$' },
      to: { path: '^src/' },
    },
    ...Object.entries(layers).map(([layer, allowed]) => ({
      name: `${layer}-imports`,
      severity: 'error',
      comment: `src/${layer}/ may import only: ${allowed.join(', ')} (docs/architecture.md)`,
      from: { path: `^src/${layer}/` },
      to: { path: '^src/', pathNot: allowedPath(allowed) },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
