import type { EntityManager } from "typeorm";
import type { SecretBox } from "../crypto/secret-box.js";
import { AccessKeyService } from "./access-keys.js";
import { AuditService } from "./audit.js";
import { AuditTrailService } from "./audit-trail.js";
import { StsAdapter } from "../aws/sts.js";
import { CatalogService, DEFAULT_CATALOG_LIMITS, type CatalogLimits } from "./catalog.js";
import { DeploymentCredentialsService } from "./deployment-credentials.js";
import { ProviderVerificationService } from "./provider-verification.js";
import { LinkService } from "./links.js";
import { ParameterService } from "./parameters.js";
import { DeploymentProfileService } from "./deployment-profiles.js";
import { ProfileMigrationService } from "./profile-migration.js";
import { MemberService } from "./members.js";
import { ProviderSecrets } from "./provider-secrets.js";
import { ProviderService } from "./providers.js";
import { IGNORING_OBSERVER, type DomainObserver } from "./observer.js";
import { ServerlessFrameworkService } from "./serverless-framework.js";

/** The domain services, made once per process. */
export class Services {
  readonly audit = new AuditService();
  readonly auditTrail = new AuditTrailService();
  readonly catalog: CatalogService;
  readonly secrets: ProviderSecrets;
  readonly providers: ProviderService;
  readonly links: LinkService;
  readonly profiles: DeploymentProfileService;
  readonly profileMigration: ProfileMigrationService;
  readonly credentials: DeploymentCredentialsService;
  readonly verification: ProviderVerificationService;
  readonly parameters: ParameterService;
  readonly serverless: ServerlessFrameworkService;
  readonly members = new MemberService(this.audit);
  readonly accessKeys = new AccessKeyService(this.audit);

  constructor(
    readonly secretBox: SecretBox,
    sts: StsAdapter = new StsAdapter(),
    limits: CatalogLimits = DEFAULT_CATALOG_LIMITS,
    observer: DomainObserver = IGNORING_OBSERVER,
  ) {
    this.catalog = new CatalogService(this.audit, limits);
    this.secrets = new ProviderSecrets(secretBox);
    this.providers = new ProviderService(this.secrets, this.audit);
    this.links = new LinkService(this.catalog, this.providers, this.audit);
    this.profiles = new DeploymentProfileService(this.catalog, this.audit);
    this.profileMigration = new ProfileMigrationService(this.catalog, this.providers, this.links, this.audit);
    this.credentials = new DeploymentCredentialsService(this.catalog, this.secrets, this.audit, this.profileMigration, sts, observer);
    this.verification = new ProviderVerificationService(this.catalog, this.providers, this.secrets, this.audit, sts);
    this.parameters = new ParameterService(secretBox, this.catalog, this.audit, this.credentials);
    this.serverless = new ServerlessFrameworkService(this.catalog, this.credentials, this.links, this.audit, this.parameters);
  }

  /**
   * Re-seals every secret (providers' and parameters') not sealed with the current master key, in one
   * transaction: `rotate-master-key`. Servers that know both keys keep working throughout.
   */
  resealSecrets(em: EntityManager): Promise<{ providers: number; parameters: number }> {
    return em.transaction(async (tx) => ({ providers: await this.secrets.resealAll(tx), parameters: await this.parameters.resealAll(tx) }));
  }
}
