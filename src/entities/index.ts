import { AccessKey } from "./access-key.entity.js";
import { App } from "./app.entity.js";
import { AuditChainHead, AuditEvent, AuditOutcome } from "./audit-event.entity.js";
import { AppStageProfile, DeploymentProfile } from "./deployment-profile.entity.js";
import { Instance } from "./instance.entity.js";
import { Org } from "./org.entity.js";
import { InstanceProviderLink, ServiceProviderLink } from "./provider-link.entity.js";
import { Provider } from "./provider.entity.js";
import { ServerPresence } from "./server-presence.entity.js";
import { Service } from "./service.entity.js";
import { Membership } from "./membership.entity.js";
import { Parameter } from "./parameter.entity.js";
import { ProfileMigrationLink, ProfileMigrationRun } from "./profile-migration.entity.js";
import { User } from "./user.entity.js";

export { AccessKey, App, AppStageProfile, AuditChainHead, AuditEvent, AuditOutcome, DeploymentProfile, Instance, InstanceProviderLink, Membership, Org, Parameter, ProfileMigrationLink, ProfileMigrationRun, Provider, ServerPresence, Service, ServiceProviderLink, User };
export * from "./enums.js";
export type { ProviderSettings } from "./provider.entity.js";

export const entities = [
  Org,
  App,
  Service,
  Instance,
  Provider,
  ServiceProviderLink,
  InstanceProviderLink,
  AccessKey,
  AuditEvent,
  AuditChainHead,
  User,
  Membership,
  DeploymentProfile,
  AppStageProfile,
  ServerPresence,
  Parameter,
  ProfileMigrationRun,
  ProfileMigrationLink,
];
