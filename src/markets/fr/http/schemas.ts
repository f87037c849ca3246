import { Type } from 'typebox'

/** The body is checked field by field by markets/fr/configuration.ts (400 naming the field); the schema documents it. */
export const FrConfigBody = Type.Object(
  {
    siret: Type.String({ description: "the establishment's SIRET: 14 digits with a valid check digit" }),
    name: Type.String({ description: 'the business name, 1 to 200 characters' }),
  },
  { additionalProperties: false },
)

export const FrConfigView = Type.Object({
  siret: Type.String(),
  name: Type.String(),
  version: Type.Integer({ description: 'counts the changes: 1 for the first configuration' }),
  updatedAt: Type.String({ description: 'when this version was set (ISO 8601, UTC)' }),
})
