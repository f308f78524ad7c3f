// Copies the Redis Lua scripts next to the compiled store module, which loads them at run time.
import { cpSync } from 'node:fs';

cpSync('src/store/lua', 'dist/store/lua', { recursive: true });
