import pkg from '../package.json' with { type: 'json' };

/** The suite's version, reported as rpi_exporter_build_info{version}. */
export const VERSION: string = pkg.version;
