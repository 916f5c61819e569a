/**
 * What a client localizes with: `help.getCountriesList` (a few countries with their calling codes
 * and number patterns) and `langpack.*`, answered with an English pack that has no strings, so an
 * app keeps the strings it ships with. Callable before sign-in, as on Telegram.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { Handler } from "./tools.ts";

/** The countries listed: ISO code, English name, calling code, how numbers there are grouped. */
const COUNTRIES: [string, string, string, string][] = [
  ["US", "United States", "1", "XXX XXX XXXX"],
  ["GB", "United Kingdom", "44", "XXXX XXXXXX"],
  ["DE", "Germany", "49", "XXX XXXXXXXX"],
  ["FR", "France", "33", "X XX XX XX XX"],
  ["IN", "India", "91", "XXXXX XXXXX"],
];

/** The list's hash, the same every start, so a client that has it gets countriesListNotModified. */
const COUNTRIES_HASH = [...JSON.stringify(COUNTRIES)].reduce(
  (hash, char) => (hash * 31 + char.charCodeAt(0)) | 0,
  7,
);

/** The version of the (empty) language pack: nothing ever changes in it. */
const PACK_VERSION = 1;

const ENGLISH = {
  _cons: "langPackLanguage",
  official: true,
  name: "English",
  native_name: "English",
  lang_code: "en",
  plural_code: "en",
  strings_count: 0,
  translated_count: 0,
  translations_url: "https://translations.telegram.org/en/",
};

/** The handlers, by method name. */
export function localeMethods(): Record<string, Handler> {
  // Any language is answered with an empty pack rather than refused: an app asks for the
  // device's language first and should fall back to its own strings, not retry.
  const emptyPack = (call: TlObject, fromVersion: number) => ({
    _cons: "langPackDifference",
    lang_code: String(call.lang_code),
    from_version: fromVersion,
    version: PACK_VERSION,
    strings: [],
  });
  return {
    "help.getCountriesList": (call) =>
      call.hash === COUNTRIES_HASH ? { _cons: "help.countriesListNotModified" } : {
        _cons: "help.countriesList",
        countries: COUNTRIES.map(([iso2, name, code, pattern]) => ({
          _cons: "help.country",
          iso2,
          default_name: name,
          country_codes: [{ _cons: "help.countryCode", country_code: code, patterns: [pattern] }],
        })),
        hash: COUNTRIES_HASH,
      },
    "langpack.getLangPack": (call) => emptyPack(call, 0),
    "langpack.getDifference": (call) =>
      emptyPack(call, Math.min(PACK_VERSION, Math.max(0, Number(call.from_version)))),
    // Every key asked for is one the pack does not have: said so, so that it is not asked again.
    "langpack.getStrings": (call) =>
      (call.keys as string[]).map((key) => ({ _cons: "langPackStringDeleted", key })),
    "langpack.getLanguages": () => [ENGLISH],
    "langpack.getLanguage": (call) => {
      if (call.lang_code !== "en") throw new RpcError(400, "LANG_CODE_NOT_SUPPORTED");
      return ENGLISH;
    },
  };
}
