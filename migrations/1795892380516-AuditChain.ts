import { MigrationInterface, QueryRunner } from "typeorm";

export class AuditChain1795892380516 implements MigrationInterface {
    name = 'AuditChain1795892380516'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "audit_chain_heads" ("org_id" uuid NOT NULL, "seq" bigint NOT NULL, "hash" bytea NOT NULL, CONSTRAINT "PK_b0ac9c66698ef71c152bcb4f1b5" PRIMARY KEY ("org_id"))`);
        await queryRunner.query(`ALTER TABLE "audit_events" ADD "seq" bigint`);
        await queryRunner.query(`ALTER TABLE "audit_events" ADD "hash" bytea`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_audit_events_org_seq" ON "audit_events"  ("org_id", "seq") `);
        // The encoding each event is hashed over; src/domain/audit-chain.ts rebuilds it to verify.
        // Every field as "<byte length>:<utf-8 text>", or "~" when null, after a version tag.
        await queryRunner.query(`CREATE FUNCTION audit_field(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN value IS NULL THEN '~' ELSE octet_length(value)::text || ':' || value END $$`);
        await queryRunner.query(`CREATE FUNCTION audit_event_encoding(e audit_events, seq bigint) RETURNS text LANGUAGE sql STABLE AS $$
            SELECT 'providers-api/audit-event/v1'
                || audit_field(e.id::text) || audit_field(e.org_id::text) || audit_field(seq::text)
                || audit_field(to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                || audit_field(e.request_id) || audit_field(e.actor_key_id::text) || audit_field(e.actor_user_id::text)
                || audit_field(e.actor_label) || audit_field(e.action) || audit_field(e.target_type)
                || audit_field(e.target_id::text) || audit_field(e.outcome::text) || audit_field(e.details::text) $$`);
        // Gives an event the org's next link. The head row's lock orders one org's commits; it is
        // held only from here to the end of the commit.
        await queryRunner.query(`CREATE FUNCTION audit_event_seal(e audit_events) RETURNS void LANGUAGE plpgsql AS $$
            DECLARE
                next_seq bigint;
                next_hash bytea;
            BEGIN
                INSERT INTO audit_chain_heads (org_id, seq, hash) VALUES (e.org_id, 0, decode(repeat('00', 32), 'hex'))
                    ON CONFLICT (org_id) DO NOTHING;
                UPDATE audit_chain_heads h
                   SET seq = h.seq + 1, hash = sha256(h.hash || convert_to(audit_event_encoding(e, h.seq + 1), 'UTF8'))
                 WHERE h.org_id = e.org_id
                RETURNING h.seq, h.hash INTO next_seq, next_hash;
                UPDATE audit_events SET seq = next_seq, hash = next_hash WHERE id = e.id;
            END $$`);
        // At commit (a deferred constraint trigger), so that concurrent transactions of one org queue
        // only for the instant of their commits, and a rolled-back event takes no place in the chain.
        // SECURITY DEFINER: the server's role may only insert events; the owner seals them.
        await queryRunner.query(`CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                PERFORM audit_event_seal(NEW);
                RETURN NULL;
            END $$`);
        await queryRunner.query(`CREATE CONSTRAINT TRIGGER audit_events_chain AFTER INSERT ON "audit_events"
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
        // Append-only, now including TRUNCATE; the one UPDATE allowed is the chain's own sealing of a
        // new event (seq and hash from null to set, every other field unchanged).
        await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.seq IS NOT NULL OR NEW.hash IS NOT NULL THEN
                        RAISE EXCEPTION 'audit_events: seq and hash are set by the audit chain, not by the insert' USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN NEW;
                END IF;
                IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
                   AND ROW(NEW.id, NEW.org_id, NEW.occurred_at, NEW.request_id, NEW.actor_key_id, NEW.actor_user_id, NEW.actor_label,
                           NEW.action, NEW.target_type, NEW.target_id, NEW.outcome, NEW.details)
                       IS NOT DISTINCT FROM
                       ROW(OLD.id, OLD.org_id, OLD.occurred_at, OLD.request_id, OLD.actor_key_id, OLD.actor_user_id, OLD.actor_label,
                           OLD.action, OLD.target_type, OLD.target_id, OLD.outcome, OLD.details) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
        await queryRunner.query(`CREATE TRIGGER audit_events_insert_unsealed BEFORE INSERT ON "audit_events"
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
        await queryRunner.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON "audit_events"
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
        // The heads only ever move forward by one.
        await queryRunner.query(`CREATE FUNCTION audit_chain_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.org_id = OLD.org_id AND NEW.seq = OLD.seq + 1 THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_chain_heads only moves forward: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
        await queryRunner.query(`CREATE TRIGGER audit_chain_heads_forward_only BEFORE UPDATE OR DELETE ON "audit_chain_heads"
            FOR EACH ROW EXECUTE FUNCTION audit_chain_heads_forward_only()`);
        await queryRunner.query(`CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON "audit_chain_heads"
            FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_heads_forward_only()`);
        // Events written before the chain existed are chained in the order they happened.
        await queryRunner.query(`DO $$
            DECLARE e audit_events;
            BEGIN
                FOR e IN SELECT * FROM audit_events ORDER BY org_id, occurred_at, id LOOP
                    PERFORM audit_event_seal(e);
                END LOOP;
            END $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER audit_chain_heads_no_truncate ON "audit_chain_heads"`);
        await queryRunner.query(`DROP TRIGGER audit_chain_heads_forward_only ON "audit_chain_heads"`);
        await queryRunner.query(`DROP FUNCTION audit_chain_heads_forward_only()`);
        await queryRunner.query(`DROP TRIGGER audit_events_no_truncate ON "audit_events"`);
        await queryRunner.query(`DROP TRIGGER audit_events_insert_unsealed ON "audit_events"`);
        await queryRunner.query(`DROP TRIGGER audit_events_chain ON "audit_events"`);
        await queryRunner.query(`DROP FUNCTION audit_events_chain()`);
        await queryRunner.query(`DROP FUNCTION audit_event_seal(audit_events)`);
        await queryRunner.query(`DROP FUNCTION audit_event_encoding(audit_events, bigint)`);
        await queryRunner.query(`DROP FUNCTION audit_field(text)`);
        await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
        await queryRunner.query(`DROP INDEX "public"."UQ_audit_events_org_seq"`);
        await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "hash"`);
        await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "seq"`);
        await queryRunner.query(`DROP TABLE "audit_chain_heads"`);
    }

}
