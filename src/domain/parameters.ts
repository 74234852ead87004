import { randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { SecretBox } from "../crypto/secret-box.js";
import { Instance, Parameter, Role, Service } from "../entities/index.js";
import type { AuditService } from "./audit.js";
import { requireRole } from "./roles.js";
import { isUniqueViolation, type CatalogService } from "./catalog.js";
import { assertUnscoped } from "./scope.js";
import type { RequestContext } from "./context.js";
import type { DeploymentCredentialsService, DeploymentTarget } from "./deployment-credentials.js";
import { NotFoundError, ServiceUnavailableError, UserError } from "./errors.js";
import { resolveParameters, sourceOf, type ParameterSource } from "./parameter-resolution.js";
import { secretHint } from "./credential-kinds/definition.js";
import { check, ensureAll, rules } from "./validation.js";

/** The largest value, in UTF-8 bytes: room for a certificate chain or a JSON document, not for a file store. */
export const MAX_VALUE_BYTES = 32_768;
export const MAX_DESCRIPTION_LENGTH = 1024;

/** What a parameter is set on: the org itself, a service (every stage), or an instance (a stage, or stage + region). */
export type ParameterOwner = { level: "org" } | { level: "service"; service: Service } | { level: "instance"; instance: Instance };

/** How a caller names an owner: the type and id behind a global ID. */
export interface OwnerRef {
  type: string;
  id: string;
}

export interface ParameterInput {
  name: string;
  value: string;
  description?: string | null;
  secret?: boolean | null;
}

export interface ParameterChanges {
  value?: string | null;
  description?: string | null;
  secret?: boolean | null;
}

/** A parameter's value as a deployment receives it: secret ones opened. */
export interface DeployedParameter {
  name: string;
  value: string;
  isSecret: boolean;
  source: ParameterSource;
}

// C0 and C1 control characters other than tab, line feed and carriage return (which multi-line values such as
// PEM keys need); and unpaired surrogates, which cannot be stored as UTF-8 without silently changing the value.
const FORBIDDEN_CHARACTERS = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkValue(value: string, field: string[]): UserError | null {
  if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) {
    return new UserError("VALUE_TOO_LARGE", field, `A parameter value is at most ${MAX_VALUE_BYTES} bytes (UTF-8); store larger files elsewhere and put their location in the parameter.`);
  }
  if (FORBIDDEN_CHARACTERS.test(value)) {
    return new UserError("INVALID_VALUE", field, "A parameter value may not contain control characters other than tab and line breaks.");
  }
  return null;
}

function checkDescription(description: string, field: string[]): UserError | null {
  if (description.length > MAX_DESCRIPTION_LENGTH || FORBIDDEN_CHARACTERS.test(description)) {
    return new UserError("INVALID_DESCRIPTION", field, `A description is at most ${MAX_DESCRIPTION_LENGTH} characters, without control characters other than tab and line breaks.`);
  }
  return null;
}

/** A short secret gets no visible characters at all: its last four would give most of it away. */
const hintOfValue = (value: string) => (value.length >= 16 ? secretHint(value) : "…");

/*
 * A sealed value is bound to its row, and to what decides who receives it (owner and name): a ciphertext
 * copied onto another row, or a row moved to another service or renamed in the database, fails to open.
 */
const associatedData = (p: Pick<Parameter, "orgId" | "id" | "serviceId" | "instanceId" | "name">) =>
  `providers-api/parameter/${p.orgId}/${p.id}/${p.serviceId ?? ""}/${p.instanceId ?? ""}/${p.name}`;

const describeOwner = (p: Parameter) =>
  p.instanceId ? { level: sourceOf(p), instanceId: p.instanceId } : p.serviceId ? { level: sourceOf(p), serviceId: p.serviceId } : { level: sourceOf(p) };

/**
 * Parameters: named values set on an org, a service or an instance, resolved like providers (nearest
 * wins, per name). ADMIN and DEVELOPER manage them, a scoped key only on instances in its scope (an
 * owner outside it is not found) and only an ADMIN at the org level; every change is audited by name, never
 * by value. Secret values are sealed with the master key and leave the server only for a deployment.
 */
export class ParameterService {
  constructor(
    private readonly secretBox: SecretBox,
    private readonly catalog: CatalogService,
    private readonly audit: AuditService,
    private readonly credentials: DeploymentCredentialsService,
  ) {}

  /**
   * What the caller names as an owner, checked: another org's (or one outside the key's scope) is not
   * found, and the caller must be allowed to change parameters there (see assertMayChange).
   */
  async owner(ctx: RequestContext, ref: OwnerRef, operation: string): Promise<ParameterOwner> {
    let owner: ParameterOwner;
    switch (ref.type) {
      case "Org":
        await this.catalog.org(ctx, ref.id);
        owner = { level: "org" };
        break;
      case "Service":
        owner = { level: "service", service: await this.catalog.service(ctx, ref.id) };
        break;
      case "Instance":
        owner = { level: "instance", instance: await this.catalog.instance(ctx, ref.id) };
        break;
      default:
        throw new NotFoundError("The org, service or instance");
    }
    await this.assertMayChange(ctx, owner.level, operation);
    return owner;
  }

  /** A parameter the caller may see: in its org, on an owner within its key's scope. */
  async parameter(ctx: RequestContext, parameterId: string): Promise<Parameter> {
    const parameter = await ctx.em.findOneBy(Parameter, { id: parameterId, orgId: ctx.orgId });
    if (!parameter) throw new NotFoundError("The parameter");
    try {
      if (parameter.instanceId) await this.catalog.instance(ctx, parameter.instanceId);
      else if (parameter.serviceId) await this.catalog.service(ctx, parameter.serviceId);
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError("The parameter");
      throw error;
    }
    return parameter;
  }

  async create(ctx: RequestContext, ownerRef: OwnerRef, input: ParameterInput): Promise<Parameter> {
    const owner = await this.owner(ctx, ownerRef, "createParameter");
    ensureAll(
      check(rules.parameterName, input.name, ["input", "name"]),
      checkValue(input.value, ["input", "value"]),
      input.description ? checkDescription(input.description, ["input", "description"]) : null,
    );
    const parameter = ctx.em.create(Parameter, {
      id: randomUUID(),
      orgId: ctx.orgId,
      serviceId: owner.level === "service" ? owner.service.id : null,
      instanceId: owner.level === "instance" ? owner.instance.id : null,
      name: input.name,
      description: input.description || null,
    });
    this.applyValue(parameter, input.value, input.secret ?? false);
    try {
      // A plain insert: a name already set on this owner (even by a concurrent request) is refused by
      // the unique index, never overwritten.
      await ctx.em.insert(Parameter, parameter);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new UserError("NAME_TAKEN", ["input", "name"], `A parameter named "${input.name}" is already set here; change it with updateParameter, or delete it first.`);
      }
      throw error;
    }
    await this.recordChange(ctx, "parameter.create", parameter, {});
    return ctx.em.findOneByOrFail(Parameter, { id: parameter.id, orgId: ctx.orgId });
  }

  /**
   * Replaces the value, the description or whether the value is secret. A secret becomes plain only
   * with a new value: otherwise anyone who may read parameters could read the old secret.
   */
  async update(ctx: RequestContext, parameterId: string, changes: ParameterChanges): Promise<Parameter> {
    const parameter = await this.lockedForChange(ctx, parameterId, "updateParameter");
    const secret = changes.secret ?? parameter.isSecret;
    ensureAll(
      changes.value != null ? checkValue(changes.value, ["input", "value"]) : null,
      changes.description ? checkDescription(changes.description, ["input", "description"]) : null,
    );
    if (parameter.isSecret && !secret && changes.value == null) {
      throw new UserError("NEW_VALUE_REQUIRED", ["input", "value"], `"${parameter.name}" is secret: to make it plain, give it a new value too (its secret value is never revealed).`);
    }
    const value = changes.value ?? (parameter.isSecret ? this.openValue(parameter) : parameter.value!);
    const valueChanged = changes.value != null;
    if (valueChanged || secret !== parameter.isSecret) this.applyValue(parameter, value, secret);
    if (changes.description != null) parameter.description = changes.description || null;
    await ctx.em.save(parameter);
    await this.recordChange(ctx, "parameter.update", parameter, { valueChanged, descriptionChanged: changes.description != null });
    return parameter;
  }

  async delete(ctx: RequestContext, parameterId: string): Promise<Parameter> {
    const parameter = await this.lockedForChange(ctx, parameterId, "deleteParameter");
    await ctx.em.delete(Parameter, { id: parameter.id, orgId: ctx.orgId });
    await this.recordChange(ctx, "parameter.delete", parameter, {});
    return parameter;
  }

  /** The opened value of a secret parameter (the plain value of another). Only deployments call this. */
  openValue(parameter: Parameter): string {
    if (!parameter.isSecret) return parameter.value!;
    return this.secretBox.open({ keyId: parameter.valueKeyId!, ciphertext: parameter.valueCiphertext! }, associatedData(parameter));
  }

  /**
   * The effective parameters of a deployment, secret values opened: what a CI step or the Serverless
   * Framework's `${param:NAME}` reads. The same rules as deployment credentials: the caller's org, its
   * key's scope, and an audit record naming every parameter (never a value) written before anything is
   * returned. It runs outside any transaction and holds no connection between its statements: the audit
   * record is one committed insert, and a refusal is audited (recordRefusal) with no transaction to wait
   * on. Nothing is created: a service never deployed gets the org's values.
   */
  async forDeployment(ctx: RequestContext, target: DeploymentTarget): Promise<DeployedParameter[]> {
    const where = { app: target.app, service: target.service, stage: target.stage, region: target.region };
    try {
      this.catalog.checkDeploymentTarget(target);
      const { serviceId } = await this.credentials.admitPlace(ctx, target);
      const [effective] = await resolveParameters(ctx.em, ctx.orgId, [{ serviceId, stage: target.stage, region: target.region }]);
      const deployed = effective.map(({ parameter, source }) => ({ name: parameter.name, value: this.openValue(parameter), isSecret: parameter.isSecret, source }));
      try {
        await this.audit.record(ctx, {
          action: "parameters.issue",
          targetType: serviceId ? "Service" : null,
          targetId: serviceId,
          details: { ...where, parameters: effective.map(({ parameter, source }) => ({ name: parameter.name, source, secret: parameter.isSecret, parameterId: parameter.id })) },
        });
      } catch (error) {
        ctx.logger.error({ requestId: ctx.requestId, action: "parameters.issue", err: { message: (error as Error).message } }, "could not record an issuance; its parameters were not handed out");
        throw new ServiceUnavailableError("The parameters could not be recorded in the audit trail, so they were not handed out. Try again in a moment.");
      }
      return deployed;
    } catch (error) {
      await this.audit.recordRefusal(ctx, "parameters.issue", error, where);
      throw error;
    }
  }

  /**
   * Re-seals every secret value not sealed with the current master key (all orgs), in the caller's
   * transaction; `rotate-master-key` runs it with the providers' re-sealing. Returns how many.
   */
  async resealAll(em: EntityManager): Promise<number> {
    const stale = await em
      .getRepository(Parameter)
      .createQueryBuilder("p")
      .where("p.valueKeyId IS NOT NULL AND p.valueKeyId <> :current", { current: this.secretBox.currentKeyId })
      .setLock("pessimistic_write")
      .getMany();
    for (const parameter of stale) {
      const sealed = this.secretBox.seal(this.openValue(parameter), associatedData(parameter));
      await em.update(Parameter, { id: parameter.id, orgId: parameter.orgId }, { valueKeyId: sealed.keyId, valueCiphertext: sealed.ciphertext });
    }
    return stale.length;
  }

  /** The parameter, locked, after checking the caller may change it. */
  private async lockedForChange(ctx: RequestContext, parameterId: string, operation: string): Promise<Parameter> {
    const visible = await this.parameter(ctx, parameterId);
    await this.assertMayChange(ctx, visible.instanceId ? "instance" : visible.serviceId ? "service" : "org", operation);
    const locked = await ctx.em.getRepository(Parameter).createQueryBuilder("p").where("p.id = :id AND p.orgId = :orgId", { id: visible.id, orgId: ctx.orgId }).setLock("pessimistic_write").getOne();
    if (!locked) throw new NotFoundError("The parameter");
    return locked;
  }

  /**
   * Who may change parameters where, as with providers' links and defaults: on an instance, whoever
   * sees it (a scoped key only within its scope); on a service, whose value every stage inherits, only
   * an unscoped key; on the org, which every service inherits, only an ADMIN with an unscoped key — an
   * opt-in, like a default provider. Refusals are audited.
   */
  private async assertMayChange(ctx: RequestContext, level: ParameterOwner["level"], operation: string): Promise<void> {
    if (level === "instance") return;
    if (level === "org") {
      await requireRole(
        ctx,
        Role.ADMIN,
        operation,
        "Org-level parameters apply to every service: only an ADMIN may set, change or delete them. Set the parameter on a service or an instance instead.",
      );
    }
    await assertUnscoped(
      ctx,
      operation,
      level === "org" ? "an org-level parameter (every service inherits it)" : "a service-wide parameter (every stage inherits it)",
    );
  }

  private applyValue(parameter: Parameter, value: string, secret: boolean): void {
    parameter.isSecret = secret;
    if (secret) {
      const sealed = this.secretBox.seal(value, associatedData(parameter));
      parameter.value = null;
      parameter.valueHint = hintOfValue(value);
      parameter.valueKeyId = sealed.keyId;
      parameter.valueCiphertext = sealed.ciphertext;
    } else {
      parameter.value = value;
      parameter.valueHint = null;
      parameter.valueKeyId = null;
      parameter.valueCiphertext = null;
    }
  }

  /** Audits a change by the parameter's id, name and owner: never its value. */
  private recordChange(ctx: RequestContext, action: string, parameter: Parameter, details: Record<string, unknown>) {
    return this.audit.record(ctx, {
      action,
      targetType: "Parameter",
      targetId: parameter.id,
      details: { name: parameter.name, secret: parameter.isSecret, ...describeOwner(parameter), ...details },
    });
  }
}
