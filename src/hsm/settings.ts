import type { Config } from '../config.ts'
import { Pkcs11Token } from './pkcs11-token.ts'

export type Pkcs11Config = Partial<
  Pick<
    Config,
    | 'FISCALBOX_PKCS11_MODULE'
    | 'FISCALBOX_PKCS11_SLOT'
    | 'FISCALBOX_PKCS11_TOKEN_LABEL'
    | 'FISCALBOX_PKCS11_PIN'
    | 'FISCALBOX_PKCS11_PIN_FILE'
  >
>

/**
 * The configured PKCS#11 token, logged in, or undefined when none is configured. A token setting without
 * the module, or a module without a PIN, stops start-up with the setting's name (never the PIN's value).
 */
export function openConfiguredToken(config: Pkcs11Config): Pkcs11Token | undefined {
  const module = config.FISCALBOX_PKCS11_MODULE
  const { FISCALBOX_PKCS11_PIN: pin, FISCALBOX_PKCS11_PIN_FILE: pinFile } = config
  if (!module) {
    const stray = (
      [
        'FISCALBOX_PKCS11_SLOT',
        'FISCALBOX_PKCS11_TOKEN_LABEL',
        'FISCALBOX_PKCS11_PIN',
        'FISCALBOX_PKCS11_PIN_FILE',
      ] as const
    ).filter((name) => config[name] !== undefined)
    if (stray.length === 0) return undefined
    throw new Error(
      `FISCALBOX_PKCS11_MODULE is not set, but the token settings ${stray.join(', ')} are: set it to the token's PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so), or unset them`,
    )
  }
  if ((pin === undefined) === (pinFile === undefined)) {
    throw new Error(
      'FISCALBOX_PKCS11_PIN or FISCALBOX_PKCS11_PIN_FILE: set exactly one, the token user PIN or a file holding it',
    )
  }
  if (config.FISCALBOX_PKCS11_SLOT !== undefined && config.FISCALBOX_PKCS11_TOKEN_LABEL !== undefined) {
    throw new Error('FISCALBOX_PKCS11_SLOT or FISCALBOX_PKCS11_TOKEN_LABEL: set one of the two, not both')
  }
  return Pkcs11Token.open({
    module,
    ...(config.FISCALBOX_PKCS11_SLOT !== undefined ? { slot: config.FISCALBOX_PKCS11_SLOT } : {}),
    ...(config.FISCALBOX_PKCS11_TOKEN_LABEL !== undefined
      ? { tokenLabel: config.FISCALBOX_PKCS11_TOKEN_LABEL }
      : {}),
    pin: pin !== undefined ? { value: pin } : { file: pinFile as string },
  })
}
