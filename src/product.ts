import { readFileSync } from 'node:fs'

/**
 * The name and version a client reads (POST /v2/configuration, the version journal): package.json's, read
 * once, so that the running code and its package never disagree (npm_package_version is set only under npm).
 */
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string
  version: string
}

export const PRODUCT = manifest.name
export const PRODUCT_VERSION = manifest.version
/** The POS System API version fiscalbox serves under /v2. */
export const POS_SYSTEM_API_VERSION = '2'
