// Written by `npm run build` once every project built: the time at which all of dist/ was known
// to match the sources. nx and webpack leave a bundle whose output did not change untouched (an
// nx cache hit restores old files), so a bundle's own mtime can be older than a source change
// that did not affect it; the fault suite's freshness check (test/faults/support/built-services.ts)
// takes this stamp as the build's time.
require('node:fs').writeFileSync(
  require('node:path').join(__dirname, '..', 'dist', '.built-at'),
  `${new Date().toISOString()}\n`,
);
