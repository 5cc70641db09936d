// Maps (src/map)
export * from './map/index.js';
