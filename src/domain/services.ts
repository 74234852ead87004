import type { EntityManager } from "typeorm";
import type { SecretBox } from "../crypto/secret-box.js";
import { AccessKeyService } from "./access-keys.js";
import { AuditService } from "./audit.js";
import { StsAdapter } from "../aws/sts.js";
import { CatalogService } from "./catalog.js";
import { DeploymentCredentialsService } from "./deployment-credentials.js";
import { ProviderVerificationService } from "./provider-verification.js";
import { LinkService } from "./links.js";
import { ParameterService } from "./parameters.js";
import { ProfileService } from "./profiles.js";
import { MemberService } from "./members.js";
import { ProviderService } from "./providers.js";

/** The domain services, made once per process. */
export class Services {
  readonly audit = new AuditService();
  readonly catalog = new CatalogService(this.audit);
  readonly providers: ProviderService;
  readonly links: LinkService;
  readonly profiles: ProfileService;
  readonly credentials: DeploymentCredentialsService;
  readonly verification: ProviderVerificationService;
  readonly parameters: ParameterService;
  readonly members = new MemberService(this.audit);
  readonly accessKeys = new AccessKeyService(this.audit);

  constructor(
    readonly secretBox: SecretBox,
    sts: StsAdapter = new StsAdapter(),
  ) {
    this.providers = new ProviderService(secretBox, this.audit);
    this.links = new LinkService(this.catalog, this.providers, this.audit);
    this.profiles = new ProfileService(this.catalog, this.providers, this.links, this.audit);
    this.credentials = new DeploymentCredentialsService(this.catalog, this.providers, this.audit, this.profiles, sts);
    this.verification = new ProviderVerificationService(this.catalog, this.providers, this.audit, sts);
    this.parameters = new ParameterService(secretBox, this.catalog, this.audit, this.credentials);
  }

  /**
   * Re-seals every secret (providers' and parameters') not sealed with the current master key, in one
   * transaction: `rotate-master-key`. Servers that know both keys keep working throughout.
   */
  resealSecrets(em: EntityManager): Promise<{ providers: number; parameters: number }> {
    return em.transaction(async (tx) => ({ providers: await this.providers.resealAll(tx), parameters: await this.parameters.resealAll(tx) }));
  }
}
