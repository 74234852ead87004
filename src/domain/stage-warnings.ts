import { Role, type Org } from "../entities/index.js";
import { nearestName } from "../nearest-name.js";
import type { Actor } from "./context.js";
import { UserError } from "./errors.js";
import { hasRole } from "./roles.js";

/*
 * A stage comes to exist when something is first deployed to it, so a typo (`Prod`, `prdo`) becomes a
 * stage of its own, with the dev credentials the service inherits. A deployment to a stage its service
 * never had is told so (a warning); an org that asks for it refuses such a deployment outright unless
 * the caller may add stages.
 */

/** At most this many known stages are named in a message: a service with thousands keeps it one short sentence. */
const STAGES_NAMED = 10;

/** The known stages for a message: sorted, the suggested one first, at most STAGES_NAMED and how many more. */
function stageList(knownStages: readonly string[], suggestion: string | null): string {
  const sorted = [...knownStages].sort();
  const names = suggestion ? [suggestion, ...sorted.filter((stage) => stage !== suggestion)] : sorted;
  const more = names.length - STAGES_NAMED;
  return `${names.slice(0, STAGES_NAMED).join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}

/** Something a deployment should know although it got what it asked for. */
export interface DeploymentWarning {
  code: "NEW_STAGE" | "NEW_SERVICE" | "DEPLOYMENT_PROFILES_MIGRATED";
  message: string;
  /** The known stage the new one is closest to, when it looks like a typo of it. */
  suggestedStage: string | null;
}

/**
 * The warning for a deployment whose stage its service has never deployed (`knownStages`, the stages
 * of the service's instances the caller may see), or for a service's first deployment. Null when the
 * stage is known: a redeployment, or a new region of a known stage.
 */
export function newStageWarning(target: { app: string; service: string; stage: string }, serviceExists: boolean, knownStages: readonly string[]): DeploymentWarning | null {
  if (knownStages.includes(target.stage)) return null;
  if (!serviceExists) {
    return {
      code: "NEW_SERVICE",
      message: `This is the first deployment of service "${target.service}" of app "${target.app}" (stage "${target.stage}"): it was created now. If you meant an existing service, check the names.`,
      suggestedStage: null,
    };
  }
  // knownStages come oldest first, and between equally close names the first wins: after a "Prod" typo
  // became a stage, "PROD" still means the prod that was there before it.
  const suggestion = nearestName(target.stage, knownStages);
  const known = knownStages.length ? ` Its known stages: ${stageList(knownStages, null)}.` : "";
  return {
    code: "NEW_STAGE",
    message: `Service "${target.service}" has never deployed to stage "${target.stage}"; ${suggestion ? `did you mean ${suggestion}? ` : ""}a new instance was recorded for it.${known} If it is a typo, deleteInstance removes it.`,
    suggestedStage: suggestion,
  };
}

/** Who may add a stage when the org refuses new ones: an admin (who could switch the setting off anyway), or an org key allowed to. */
export const mayCreateStages = (actor: Actor): boolean => hasRole(actor.role, Role.ADMIN) || actor.mayCreateStages;

/**
 * Refuses adding `stage` to a service that never had it (`knownStages`: the service's stages as far as the
 * caller's key may see them, the oldest first; a stage in a scoped key's reach is among them if it exists)
 * when the org refuses new stages and the caller may not add them. No statement: the org and the key are
 * already loaded, and the stages come with the caller's own look-up.
 */
export function assertStageMayBeAdded(actor: Actor, org: Pick<Org, "refuseNewStages">, target: { service: string; stage: string }, knownStages: readonly string[]): void {
  if (!org.refuseNewStages || knownStages.includes(target.stage) || mayCreateStages(actor)) return;
  const suggestion = nearestName(target.stage, knownStages);
  const known = knownStages.length ? `its stages are ${stageList(knownStages, suggestion)}` : "it has no stage yet";
  throw new UserError(
    "NEW_STAGE_REFUSED",
    ["input", "stage"],
    `Service "${target.service}" has never had stage "${target.stage}", and the org refuses new stages: ${suggestion ? `did you mean ${suggestion}? ` : ""}${known}. ` +
      "Use a known stage, or ask an org admin to add this one (createInstance) or for a key that may create stages (scope.mayCreateStages).",
  );
}
