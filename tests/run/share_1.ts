// Share 1 of 8 of ok's tests (see tests/support/test_shares.ts).
import { importShare } from "../support/test_shares.ts";

await importShare(1, 8);
