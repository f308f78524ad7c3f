// Copies the files the compiled modules load at run time: the Redis Lua scripts next to the store module,
// and the Python reader of `import --from celery-app` next to its module.
import { cpSync } from 'node:fs';

cpSync('src/store/lua', 'dist/store/lua', { recursive: true });
cpSync('src/import/celery-app-reader.py', 'dist/import/celery-app-reader.py');
