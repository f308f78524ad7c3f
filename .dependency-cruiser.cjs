// The import direction of docs/architecture.md, checked by `npm run lint`. Each layer lists what it may
// import; everything else in src/ is refused, and so is any cycle.
const layers = {
  api: ['api'],
  schedule: ['api/types\\.ts', 'contracts\\.ts', 'schedule'],
  validation: ['api', 'schedule', 'celery', 'validation'],
  manifests: ['api', 'manifests'],
  celery: ['api', 'contracts\\.ts', 'observe', 'celery'],
  store: ['api', 'contracts\\.ts', 'store'],
  beat: ['api', 'contracts\\.ts', 'schedule', 'celery', 'observe', 'workqueue', 'timing', 'beat'],
  kube: ['api', 'contracts\\.ts', 'observe', 'workqueue', 'timing', 'policy', 'kube'],
  leadership: ['contracts\\.ts', 'kube', 'store', 'observe', 'timing', 'leadership'],
  standalone: ['api', 'contracts\\.ts', 'manifests', 'observe', 'policy', 'standalone'],
  policy: ['api', 'contracts\\.ts', 'schedule', 'policy'],
  controller: [
    'api',
    'contracts\\.ts',
    'validation',
    'policy',
    'schedule',
    'store',
    'beat',
    'observe',
    'workqueue',
    'timing',
    'controller',
  ],
  'redis-schedules': ['api', 'contracts\\.ts', 'validation', 'store', 'observe', 'redis-schedules'],
  import: ['api', 'schedule', 'validation', 'store', 'redis-schedules', 'import'],
  results: ['api', 'contracts\\.ts', 'observe', 'results'],
  observe: ['observe'],
  workqueue: ['workqueue'],
  timing: ['timing'],
  plugin: ['api', 'contracts\\.ts', 'schedule', 'validation', 'kube', 'cli', 'timing', 'plugin'],
};

const kubeClientFiles = '^src/kube/kube-(connection|client)\\.ts$';

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
    {
      name: 'kubernetes-client-in-two-files',
      severity: 'error',
      comment:
        'Only src/kube/kube-connection.ts and src/kube/kube-client.ts use @kubernetes/client-node (docs/architecture.md).',
      from: { path: '^src/', pathNot: kubeClientFiles },
      to: { path: 'node_modules/@kubernetes/client-node/' },
    },
    {
      name: 'kubernetes-client-loaded-on-demand',
      severity: 'error',
      comment:
        'Standalone mode and the file commands never load the Kubernetes client: what uses it is imported with import() (docs/architecture.md).',
      from: { path: '^src/', pathNot: `${kubeClientFiles}|^src/plugin/task-client\\.ts$` },
      to: {
        path: `${kubeClientFiles}|^src/plugin/task-client\\.ts$`,
        dynamic: false,
        dependencyTypesNot: ['type-only'],
      },
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
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
