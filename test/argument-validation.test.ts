import { expect } from "chai";
import { ArgumentValidationError } from "type-graphql";
import { validateArguments } from "../src/graphql/middleware.js";
import { ConnectionArgs } from "../src/graphql/types/common.js";
import { CreateAppInput } from "../src/graphql/types/inputs.js";

type Validate = (value: unknown) => void;
const validate = validateArguments as unknown as Validate;
const page = (first: number, after: string | null = null) => Object.assign(new ConnectionArgs(), { first, after });

/** The class-validator errors validateArguments threw, as property → constraint names; null when it passed. */
function refusal(value: unknown): Record<string, string[]> | null {
  try {
    validate(value);
    return null;
  } catch (error) {
    expect(error).to.be.instanceOf(ArgumentValidationError);
    const errors = (error as ArgumentValidationError).extensions.validationErrors;
    return Object.fromEntries(errors.map((e) => [e.property, Object.keys(e.constraints ?? {}).sort()]));
  }
}

describe("argument validation (type-graphql's rules, run synchronously)", () => {
  it("a value that passed passes again, and any other value is checked, whatever passed before", () => {
    for (let i = 0; i < 3; i++) expect(refusal(page(100))).to.equal(null);
    expect(refusal(page(101))).to.deep.equal({ first: ["max"] });
    expect(refusal(page(0))).to.deep.equal({ first: ["min"] });
    expect(refusal(page(100, "not a cursor!"))).to.deep.equal({ after: ["matches"] });
    // A long value is never remembered: it is checked every time.
    const long = "a".repeat(1025);
    for (let i = 0; i < 2; i++) expect(refusal(page(100, long))).to.deep.equal({ after: ["maxLength"] });
    expect(refusal(page(100, "a".repeat(1024)))).to.equal(null);
    expect(refusal(page(100, "a".repeat(1024)))).to.equal(null);
  });

  it("checks each input of a list, and leaves scalars, enums and nulls alone", () => {
    expect(refusal([page(1), page(500)])).to.deep.equal({ first: ["max"] });
    for (const value of [null, undefined, 7, "AWS", true]) expect(refusal(value)).to.equal(null);
  });

  it("the same values in another input class are checked by that class's rules", () => {
    expect(refusal(page(50))).to.equal(null);
    const input = Object.assign(new CreateAppInput(), { orgId: "x", name: "\u0000" });
    expect(refusal(input)).to.not.equal(null);
  });
});
