import { assertEquals, assertRejects } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { bytesFromBigint } from "../../lib/crypto/bigint.ts";
import { TELEGRAM_DH_PRIME } from "../../lib/crypto/dh.ts";
import { replayRandom } from "../../lib/crypto/random.ts";
import {
  computeSrpAnswer,
  passwordVerifier,
  type SrpAlgorithm,
  srpServerChallenge,
  srpServerVerify,
} from "../../lib/crypto/srp.ts";

const algorithm: SrpAlgorithm = {
  salt1: Uint8Array.fromHex("4d11fb6bec38f9d2546bb0f61e4f1c99a1bc0d18964ec2b7e5a59a8a9e3e6a7b"),
  salt2: Uint8Array.fromHex("a1b2c3d4e5f60718293a4b5c6d7e8f90"),
  g: 3,
  p: bytesFromBigint(TELEGRAM_DH_PRIME, 256),
};
const verifier = await passwordVerifier("hunter2", algorithm);

Deno.test("SRP: the right password convinces the server, a wrong one does not", async () => {
  const challenge = srpServerChallenge(verifier, algorithm);
  const right = await computeSrpAnswer("hunter2", algorithm, challenge.srpB, 42n);
  assertEquals(right.srp_id, 42n);
  assertEquals(right.A.length, 256);
  assertEquals(srpServerVerify(verifier, algorithm, challenge, right.A, right.M1), true);
  const wrong = await computeSrpAnswer("hunter3", algorithm, challenge.srpB, 42n);
  assertEquals(srpServerVerify(verifier, algorithm, challenge, wrong.A, wrong.M1), false);
});

Deno.test("SRP answers are deterministic given the random a", async () => {
  const challenge = srpServerChallenge(
    verifier,
    algorithm,
    replayRandom(new Uint8Array(256).fill(7)),
  );
  const answer = () =>
    computeSrpAnswer(
      "hunter2",
      algorithm,
      challenge.srpB,
      1n,
      replayRandom(new Uint8Array(256).fill(9)),
    );
  const [first, second] = [await answer(), await answer()];
  assertEquals(first.M1, second.M1);
  assertEquals(first.M1.length, 32);
});

Deno.test("SRP refuses a server value outside the safe range", async () => {
  await assertRejects(
    () => computeSrpAnswer("x", algorithm, bytesFromBigint(1n, 256), 1n),
    SecurityError,
    "srp_B",
  );
  await assertRejects(
    () => computeSrpAnswer("x", { ...algorithm, g: 2 }, bytesFromBigint(2n ** 2000n, 256), 1n),
    SecurityError,
    "g = 2",
  );
});
