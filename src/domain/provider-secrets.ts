import type { EntityManager } from "typeorm";
import type { SecretBox } from "../crypto/secret-box.js";
import { Provider } from "../entities/index.js";

/** The secret part of a provider, as it is sealed in the database. */
export type ProviderSecret = { secretAccessKey?: string; secretKey?: string; authToken?: string };

const associatedData = (provider: Pick<Provider, "orgId" | "id">) => `providers-api/provider/${provider.orgId}/${provider.id}`;

/** Provider secrets at rest: sealed to their row with the master key, opened only to hand them out, re-sealed on rotation. */
export class ProviderSecrets {
  constructor(private readonly secretBox: SecretBox) {}

  /** Seals the secret onto the provider's row (or clears it, for a kind with no secret). */
  seal(provider: Provider, secret: object | null): void {
    if (secret) {
      const sealed = this.secretBox.seal(JSON.stringify(secret), associatedData(provider));
      provider.secretKeyId = sealed.keyId;
      provider.secretCiphertext = sealed.ciphertext;
    } else {
      provider.secretKeyId = null;
      provider.secretCiphertext = null;
    }
  }

  /** The provider's sealed secret, opened. Only minting and verifying credentials call this. */
  open(provider: Provider): ProviderSecret {
    if (!provider.secretCiphertext || !provider.secretKeyId) return {};
    return JSON.parse(this.secretBox.open({ keyId: provider.secretKeyId, ciphertext: provider.secretCiphertext }, associatedData(provider)));
  }

  /**
   * Re-seals, in one transaction, every provider secret that is not sealed with the current master
   * key (across all orgs: an operator's task, not a request's). Returns how many were re-sealed.
   * Servers that know both keys keep working throughout; afterwards the old key can be dropped.
   */
  async resealAll(em: EntityManager): Promise<number> {
    return em.transaction(async (tx) => {
      const stale = await tx
        .getRepository(Provider)
        .createQueryBuilder("p")
        .where("p.secretKeyId IS NOT NULL AND p.secretKeyId <> :current", { current: this.secretBox.currentKeyId })
        .setLock("pessimistic_write")
        .getMany();
      for (const provider of stale) {
        const sealed = this.secretBox.seal(JSON.stringify(this.open(provider)), associatedData(provider));
        await tx.update(Provider, { id: provider.id, orgId: provider.orgId }, { secretKeyId: sealed.keyId, secretCiphertext: sealed.ciphertext });
      }
      return stale.length;
    });
  }

  /** Refuses to serve a database whose secrets were sealed with a key this server does not have. */
  static async assertKeysAvailable(em: EntityManager, secretBox: SecretBox): Promise<void> {
    // Parameters' secret values are sealed with the same master key.
    const rows: Array<{ key_id: string }> = await em.query(
      `SELECT secret_key_id AS key_id FROM providers WHERE secret_key_id IS NOT NULL
       UNION SELECT value_key_id FROM parameters WHERE value_key_id IS NOT NULL`,
    );
    const missing = rows.map((r) => r.key_id).filter((id) => !secretBox.knows(id));
    if (missing.length > 0) {
      throw new Error(
        `this database holds secrets sealed with master key id ${missing.join(", ")}, ` +
          `but PROVIDERS_MASTER_KEY has id ${secretBox.currentKeyId}. Start the server with the key this database was created with ` +
          `(or list the old key in PROVIDERS_PREVIOUS_MASTER_KEYS).`,
      );
    }
  }
}
