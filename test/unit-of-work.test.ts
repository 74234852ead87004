import { expect } from "chai";
import { newOrg } from "./client.js";
import { harness } from "./setup.js";
import { authenticate } from "../src/domain/authentication.js";
import { ContextMisuseError } from "../src/domain/context.js";
import { ForbiddenError, UserError } from "../src/domain/errors.js";
import { inTransaction } from "../src/domain/transaction.js";
import { App } from "../src/entities/index.js";
import { GraphQLContext } from "../src/graphql/context.js";
import { fromGlobalId } from "../src/graphql/global-id.js";

/*
 * The unit of work (src/domain/transaction.ts) on real PostgreSQL: it hands its work a child context
 * (the transaction's entity manager, its own loaders) and leaves the request's context as it was; a
 * deadlock is retried with a new child; concurrent units of one request never cross.
 */

interface Event {
  action: string;
  outcome: string;
  details: { who?: string; attempt?: number; i?: number };
}

async function events(action: string): Promise<Event[]> {
  return harness().application.dataSource.query("SELECT action, outcome, details FROM audit_events WHERE action = $1 ORDER BY (details->>'who'), (details->>'i')::int", [action]);
}

async function nameOf(appId: string): Promise<string> {
  const [row] = await harness().application.dataSource.query("SELECT name FROM apps WHERE id = $1", [appId]);
  return row.name;
}

describe("the unit of work", () => {
  let ctx: GraphQLContext;
  let orgId: string;

  /** A request's context, as src/http/app.ts makes one, for the org's admin key. */
  beforeEach(async () => {
    const org = await newOrg("acme");
    const { dataSource, services } = harness().application;
    orgId = fromGlobalId(org.orgId)!.id;
    ctx = new GraphQLContext(await authenticate(dataSource, org.key), dataSource, services, "request-1");
  });

  async function apps(...names: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const name of names) ids.push((await harness().application.services.catalog.createApp(ctx, orgId, name)).id);
    return ids;
  }

  it("hands the work a child context: the same request on the transaction's entity manager, with loaders of its own; the request's context is unchanged", async () => {
    const [appId] = await apps("shop");
    const requestEm = ctx.em;
    const requestLoaders = ctx.loaders;
    const child = await inTransaction(ctx, async (tx) => {
      expect(tx).to.be.instanceOf(GraphQLContext);
      expect(tx).not.to.equal(ctx);
      const differs = (["actor", "requestId", "logger", "services", "dataSource", "signal", "operation"] as const).filter((field) => tx[field] !== ctx[field]);
      expect(differs, "what differs from the request's context").to.deep.equal([]);
      expect(tx.inTransaction).to.equal(true);
      expect(tx.em).not.to.equal(requestEm);
      expect(tx.loaders).not.to.equal(requestLoaders);
      // A unit of work inside it joins its transaction, with the same context.
      expect(await inTransaction(tx, async (inner) => inner)).to.equal(tx);
      // The child's loaders read through the transaction: they see its own uncommitted write.
      await tx.em.update(App, { id: appId }, { name: "renamed" });
      expect((await tx.loaders.app(appId))!.name).to.equal("renamed");
      return tx;
    });
    expect(ctx.em).to.equal(requestEm);
    expect(ctx.loaders).to.equal(requestLoaders);
    expect(ctx.inTransaction).to.equal(false);
    expect(child.inTransaction, "the child is done with its transaction").to.equal(false);
    expect((await ctx.loaders.app(appId))!.name).to.equal("renamed");
  });

  it("rolls a failed unit back whole: nothing it wrote stays, and the request's loaders never see a row it read", async () => {
    const [appId] = await apps("shop");
    expect((await ctx.loaders.app(appId))!.name, "cached by the request before the unit").to.equal("shop");
    const failed = await inTransaction(ctx, async (tx) => {
      await tx.em.update(App, { id: appId }, { name: "half-done" });
      expect((await tx.loaders.app(appId))!.name).to.equal("half-done");
      await tx.services.audit.record(tx, { action: "test.unit", details: { who: "failed" } });
      throw new UserError("NAME_TAKEN", ["input", "name"], "taken");
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).to.be.instanceOf(UserError);
    expect(await nameOf(appId)).to.equal("shop");
    expect(await events("test.unit")).to.deep.equal([]);
    expect((await ctx.loaders.app(appId))!.name).to.equal("shop");
    ctx.loaders.clear();
    expect((await ctx.loaders.app(appId))!.name, "read anew from the database").to.equal("shop");
  });

  it("retries a real PostgreSQL deadlock with a new child: the failed attempt leaves no write, no audit event, no refusal and no cached row behind", async function () {
    // PostgreSQL looks for a deadlock after deadlock_timeout (1 s by default).
    this.timeout(30_000);
    const [x, y] = await apps("x", "y");
    const original: Record<string, string> = { [x]: "x", [y]: "y" };
    const children: Record<string, GraphQLContext[]> = { a: [], b: [] };
    const seen: Record<string, string[]> = { a: [], b: [] };
    let holding = 0;
    let bothHold!: () => void;
    const bothHolding = new Promise<void>((resolve) => (bothHold = resolve));

    // a locks x then y; b locks y then x. Their first attempts each hold one row and wait for the other's.
    const unit = (who: string, first: string, second: string) =>
      inTransaction(ctx, async (tx) => {
        children[who].push(tx);
        const attempt = children[who].length;
        await tx.em.query("SELECT 1 FROM apps WHERE id = $1 FOR UPDATE", [first]);
        // What this attempt's loaders show before it writes: the committed row, never a failed attempt's.
        seen[who].push((await tx.loaders.app(first))!.name);
        await tx.em.update(App, { id: first }, { name: `${who}-${attempt}-first` });
        await tx.services.audit.record(tx, { action: "test.unit", details: { who, attempt } });
        await tx.services.audit.recordRefusal(tx, "test.refusal", new ForbiddenError("refused inside the unit"), { who, attempt });
        if (attempt === 1) {
          if (++holding === 2) bothHold();
          await bothHolding;
        }
        await tx.em.update(App, { id: second }, { name: `${who}-${attempt}-second` });
        return attempt;
      });
    const results = await Promise.all([unit("a", x, y), unit("b", y, x)]);

    // One of the two was PostgreSQL's deadlock victim and ran again; the other ran once.
    expect(results.slice().sort()).to.deep.equal([1, 2]);
    const victim = results[0] === 2 ? "a" : "b";
    const winner = victim === "a" ? "b" : "a";
    const [victimFirst, victimSecond] = victim === "a" ? [x, y] : [y, x];
    expect(children[victim]).to.have.length(2);
    expect(children[winner]).to.have.length(1);
    const [failedAttempt, retry] = children[victim];
    expect(retry).not.to.equal(failedAttempt);
    expect(retry.loaders).not.to.equal(failedAttempt.loaders);
    // The retry's loaders show the winner's committed write, not the row the failed attempt wrote and cached.
    expect(seen[victim]).to.deep.equal([original[victimFirst], `${winner}-1-second`]);
    expect(seen[winner]).to.deep.equal([original[victimSecond]]);
    // The victim ran last: both rows are its retry's.
    expect([await nameOf(victimFirst), await nameOf(victimSecond)]).to.deep.equal([`${victim}-2-first`, `${victim}-2-second`]);
    // One audit event and one refusal per attempt that counted; none from the failed attempt.
    const counted = [
      { who: winner, attempt: 1 },
      { who: victim, attempt: 2 },
    ].sort((p, q) => p.who.localeCompare(q.who));
    expect((await events("test.unit")).map((e) => e.details)).to.deep.equal(counted);
    const refusals = await events("test.refusal");
    expect(refusals.map((e) => [e.outcome, e.details.who, e.details.attempt])).to.deep.equal(counted.map((c) => ["DENIED", c.who, c.attempt]));
    expect(ctx.inTransaction).to.equal(false);
  });

  it("runs three times the pool's size of units of one request at once, each in its own child; refusals are written once their connections are back", async () => {
    const count = 3 * harness().config.databasePoolSize;
    const ids = await apps(...Array.from({ length: count }, (_, i) => `app-${i}`));
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        inTransaction(ctx, async (tx) => {
          await tx.em.update(App, { id }, { name: `renamed-${i}` });
          // Each sees its own write through its own transaction, never another unit's.
          const read = (await tx.loaders.app(id))!.name;
          if (i % 2 === 1) {
            await tx.services.audit.recordRefusal(tx, "test.refusal", new ForbiddenError("odd"), { i });
            throw new UserError("NAME_TAKEN", ["input", "name"], `unit ${i} gives up`);
          }
          await tx.services.audit.record(tx, { action: "test.unit", details: { i } });
          return read;
        }),
      ),
    );
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).to.deep.equal(
      ids.map((_, i) => (i % 2 === 1 ? `unit ${i} gives up` : `renamed-${i}`)),
    );
    const names: Array<{ name: string }> = await harness().application.dataSource.query("SELECT name FROM apps ORDER BY created_at, name");
    expect(names.map((r) => r.name).sort()).to.deep.equal(ids.map((_, i) => (i % 2 === 1 ? `app-${i}` : `renamed-${i}`)).sort());
    const odd = ids.map((_, i) => i).filter((i) => i % 2 === 1);
    expect((await events("test.refusal")).map((e) => e.details.i)).to.deep.equal(odd);
    expect((await events("test.unit")).map((e) => e.details.i)).to.deep.equal(ids.map((_, i) => i).filter((i) => i % 2 === 0));
    expect(ctx.inTransaction).to.equal(false);
  });

  it("refuses work that reaches past its child to the request's context, keeping nothing of that work", async () => {
    const [appId] = await apps("shop");
    const viaEm = await inTransaction(ctx, async (tx) => {
      await tx.em.update(App, { id: appId }, { name: "half-done" });
      return ctx.em.findOneBy(App, { id: appId });
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(viaEm).to.be.instanceOf(ContextMisuseError);
    const viaLoaders = await inTransaction(ctx, async () => ctx.loaders.app(appId)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(viaLoaders).to.be.instanceOf(ContextMisuseError);
    expect(await nameOf(appId)).to.equal("shop");
    // Once the unit has ended, the request's context is the one to use again, even from a callback
    // the unit left behind.
    let ended!: () => void;
    const unitEnded = new Promise<void>((resolve) => (ended = resolve));
    let later!: Promise<string>;
    await inTransaction(ctx, async () => {
      later = unitEnded.then(async () => (await ctx.em.findOneByOrFail(App, { id: appId })).name);
    });
    ended();
    expect(await later).to.equal("shop");
  });
});
