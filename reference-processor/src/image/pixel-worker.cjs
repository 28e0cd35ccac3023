// Piscina's worker entry: loads the TypeScript task through tsx's require hook, whatever
// runs the main thread (tsx under `make processor`, ts-jest in the tests).
require('tsx/cjs/api').register();
module.exports = require('./pixel-task.ts').pixelTask;
