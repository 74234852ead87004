import { nearestName } from "../nearest-name.js";

/** Something a deployment should know although it got what it asked for. */
export interface DeploymentWarning {
  code: "NEW_STAGE" | "NEW_SERVICE";
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
  const known = knownStages.length ? ` Its known stages: ${[...knownStages].sort().join(", ")}.` : "";
  return {
    code: "NEW_STAGE",
    message: `Service "${target.service}" has never deployed to stage "${target.stage}"; ${suggestion ? `did you mean ${suggestion}? ` : ""}a new instance was recorded for it.${known} If it is a typo, deleteInstance removes it.`,
    suggestedStage: suggestion,
  };
}
