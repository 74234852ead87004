import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Takes the audit chain's per-org lock off the writers' commits. Before, a deferred trigger sealed
 * each event at its transaction's commit by updating the org's `audit_chain_heads` row, and
 * PostgreSQL keeps that row locked until the commit record is flushed: one org's commits queued one
 * WAL flush at a time. Now an event is inserted unsealed (it is durable at its transaction's commit,
 * as before) and `audit_seal_pending` seals an org's pending events in order, a batch per short
 * transaction of its own (src/db/audit-sealer.ts calls it right after a writing transaction commits,
 * periodically and at start-up).
 */
export class AuditSealer1795912571161 implements MigrationInterface {
    name = 'AuditSealer1795912571161'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_audit_events_unsealed" ON "audit_events"  ("org_id", "occurred_at", "id") WHERE "seq" IS NULL`);
        await queryRunner.query(`DROP TRIGGER audit_events_chain ON "audit_events"`);
        await queryRunner.query(`DROP FUNCTION audit_events_chain()`);
        await queryRunner.query(`DROP FUNCTION audit_event_seal(audit_events)`);
        // A batch moves the head forward by its size; it still never moves back or sideways.
        await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_chain_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.org_id = OLD.org_id AND NEW.seq > OLD.seq THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_chain_heads only moves forward: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
        // Seals up to max_events of the org's committed, unsealed events, oldest first, and returns how
        // many. The head row's lock orders sealers of one org and is held only by this transaction.
        // The events are read after the lock is taken (a new snapshot per statement in READ COMMITTED),
        // so a sealer that waited sees what the one before it sealed. SECURITY DEFINER: the server's
        // role may only insert and read events; the tables' owner seals them.
        await queryRunner.query(`CREATE FUNCTION audit_seal_pending(org uuid, max_events int) RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            DECLARE
                head_seq bigint;
                head_hash bytea;
                e audit_events;
                sealed int := 0;
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM audit_events WHERE org_id = org AND seq IS NULL) THEN
                    RETURN 0;
                END IF;
                SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.org_id = org FOR UPDATE;
                IF NOT FOUND THEN
                    INSERT INTO audit_chain_heads (org_id, seq, hash) VALUES (org, 0, decode(repeat('00', 32), 'hex'))
                        ON CONFLICT (org_id) DO NOTHING;
                    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.org_id = org FOR UPDATE;
                END IF;
                FOR e IN SELECT * FROM audit_events a WHERE a.org_id = org AND a.seq IS NULL ORDER BY a.occurred_at, a.id LIMIT max_events LOOP
                    head_seq := head_seq + 1;
                    head_hash := sha256(head_hash || convert_to(audit_event_encoding(e, head_seq), 'UTF8'));
                    UPDATE audit_events SET seq = head_seq, hash = head_hash WHERE id = e.id;
                    sealed := sealed + 1;
                END LOOP;
                IF sealed > 0 THEN
                    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash WHERE org_id = org;
                END IF;
                RETURN sealed;
            END $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        // Nothing may be left unsealed: the old design has no sealer to come back for it.
        await queryRunner.query(`DO $$
            DECLARE pending uuid;
            BEGIN
                FOR pending IN SELECT DISTINCT org_id FROM audit_events WHERE seq IS NULL LOOP
                    PERFORM audit_seal_pending(pending, 2147483647);
                END LOOP;
            END $$`);
        await queryRunner.query(`DROP FUNCTION audit_seal_pending(uuid, int)`);
        await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_chain_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.org_id = OLD.org_id AND NEW.seq = OLD.seq + 1 THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_chain_heads only moves forward: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
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
        await queryRunner.query(`CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                PERFORM audit_event_seal(NEW);
                RETURN NULL;
            END $$`);
        await queryRunner.query(`CREATE CONSTRAINT TRIGGER audit_events_chain AFTER INSERT ON "audit_events"
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
        await queryRunner.query(`DROP INDEX "public"."IDX_audit_events_unsealed"`);
    }

}
