/** Changing a password and deactivating an account; both behind UIA with the current password. */
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import type { PasswordHasher } from "./passwords.js";
import type { Registration } from "./registration.js";
import type { Requester } from "./requester.js";
import { STAGE_PASSWORD, type UserInteractiveAuth } from "./uia.js";

export class AccountManagement {
  constructor(
    private readonly storage: Storage,
    private readonly hasher: PasswordHasher,
    private readonly uia: UserInteractiveAuth,
    private readonly registration: Registration,
    private readonly clock: Clock,
  ) {}

  /** POST /account/password. Other devices are logged out unless `logoutDevices` is false. */
  async changePassword(requester: Requester, newPassword: string, logoutDevices: boolean, auth: unknown): Promise<void> {
    this.registration.checkPasswordStrength(newPassword);
    await this.uia.require({ auth, flows: [{ stages: [STAGE_PASSWORD] }], purpose: "account_password", userId: requester.userId });
    const hash = await this.hasher.hash(newPassword);
    await this.storage.accounts.setPassword(requester.userId, hash, logoutDevices ? { keepDevice: requester.deviceId } : null, this.clock.now());
  }

  /** POST /account/deactivate. The user id stays reserved forever. */
  async deactivate(requester: Requester, auth: unknown): Promise<void> {
    await this.uia.require({ auth, flows: [{ stages: [STAGE_PASSWORD] }], purpose: "account_deactivate", userId: requester.userId });
    await this.storage.accounts.deactivate(requester.userId, this.clock.now());
  }
}
