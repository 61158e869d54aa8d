// Placeholder test file for the taskdroid examples (named in tasks/tasks-auth-api.md, task 3.1).
import { describe, expect, it } from "vitest";
import { verifyPassword } from "../lib/password";

describe("login", () => {
  it("rejects a password when there is no stored hash", async () => {
    expect(await verifyPassword("secret", "")).toBe(false);
  });
});
