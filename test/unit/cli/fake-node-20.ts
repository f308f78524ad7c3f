// Preloaded with `--import` by the entry-point test: makes the process report Node.js 20, as an older
// runtime on the PATH would.
Object.defineProperty(process, 'version', { value: 'v20.20.2' });
Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.20.2' } });
