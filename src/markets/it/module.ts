import type { MarketModule } from '../module.ts'

/**
 * Italy: documents are numbered, stored and sent to the tax agency by an approved RT device, which
 * fiscalbox drives over the Epson fpmate protocol (fpmate/). So far: the protocol codec and the device
 * simulator, `fiscalbox it-simulator`. See docs/country-it.md.
 */
export const italy: MarketModule = {
  country: 'IT',
  commands: async (program) => {
    ;(await import('../../cli/it-simulator.ts')).registerItSimulator(program)
  },
}
