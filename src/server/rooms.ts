// Rooms and participants (server spec sections 1 and 2): registration, rooms, join, refresh, status, leave.
// Every durable change goes through the store's units of work; the verdict comes from conformance.ts.
import { hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { isRoomEventType, isRoomState, ZERO_COUNTERS, type RoomState } from '../../machines/domain';
import type { Caller } from './auth';
import { checkReport } from './conformance';
import { firedCandidates } from '../model/candidates';
import { ApiError, errors } from './errors';
import { QUOTA_RETRY_AFTER_SECONDS, tooManyRequests, type Limits } from './limits';
import type { Answer } from './respond';
import { randomHex, type Hmacs } from './secrets';
import type { NewReport, NewSession, RoomRecord, RoomStore, SeenKey, SessionDecision, SessionRecord, StatusFields, UpdateOptions, Verdict } from './store';
import { NonceReplayedError } from './store/errors';

type SessionChanges = Extract<SessionDecision<unknown>, { kind: 'apply' }>['changes'];
import { actionOf, optionalNumber, requiredInteger, requiredString, sameStatusFields, statusFields, type Action } from './validate';

export interface RoomsOptions {
  store: RoomStore;
  hmacs: Hmacs;
  strict: boolean;
  participantTtlMs: number;
  maxRoomSize: number;
  roomExpiryHours: { default: number; max: number };
  /** roomUrl = webAppUrl + roomToken. */
  webAppUrl: string;
  /** Returned by join when configured (loop-server's media provider fields). */
  media?: { apiKey: string; sessionId?: string };
  /** Rooms per Hawk session, reports per session (the other limits are the HTTP side's). */
  limits: Pick<Limits, 'roomsPerHawkSession' | 'reportsPerSession'>;
  now: () => number;
}


/** Hawk credentials from a Hawk session token (HKDF-SHA256, spec section 1). */
export function deriveHawkCredentialsNode(sessionToken: Buffer): { id: string; key: string } {
  const out = Buffer.from(hkdfSync('sha256', sessionToken, Buffer.alloc(0), 'identity.mozilla.com/picl/v1/sessionToken', 64));
  return { id: out.subarray(0, 32).toString('hex'), key: out.subarray(32, 64).toString('hex') };
}

export const ROOM_TOKEN = /^[A-Za-z0-9_-]{11}$/;

/**
 * The Idempotency-Key header of a status report (IETF httpapi draft: a structured-field string; a bare token is
 * taken too): 1 to 255 printable ASCII characters. Absent: undefined. Anything else: 400 errno 107.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw errors.invalid('Invalid Idempotency-Key: send it once.');
  const m = /^"([\x20-\x21\x23-\x5b\x5d-\x7e]{1,255})"$|^([\x21\x23-\x7e]{1,255})$/.exec(header.trim());
  if (!m) throw errors.invalid('Invalid Idempotency-Key: 1 to 255 printable ASCII characters.');
  return m[1] ?? m[2];
}

/** Label values for metrics: known names, anything else 'other'. */
export const eventLabel = (e: string) => (isRoomEventType(e) ? e : 'other');
export const stateLabel = (s: string) => (isRoomState(s) ? s : 'other');

export class Rooms {
  constructor(private readonly o: RoomsOptions) {}

  /** The room if it exists, is not deleted and has not expired; else 404 errno 105. */
  async room(token: string): Promise<RoomRecord> {
    if (!ROOM_TOKEN.test(token)) throw errors.roomNotFound();
    const room = await this.o.store.getRoom(token);
    if (!room || room.deletedAt !== undefined || room.expiresAt <= this.o.now()) throw errors.roomNotFound();
    return room;
  }

  async registration(caller: Caller): Promise<Answer> {
    if (caller.scheme === 'hawk') return { status: 200, body: {} };
    if (caller.scheme !== 'none') throw errors.unauthorized();
    const token = randomBytes(32);
    const { id, key } = deriveHawkCredentialsNode(token);
    const now = this.o.now();
    await this.o.store.createHawkSession({ idHmac: this.o.hmacs.hawkId(id), key, createdAt: now, lastUsedAt: now });
    return { status: 200, body: {}, headers: { 'Hawk-Session-Token': token.toString('hex') } };
  }

  async createRoom(caller: Caller, o: Record<string, unknown>): Promise<Answer> {
    if (caller.scheme !== 'hawk') throw errors.unauthorized();
    const roomName = requiredString(o, 'roomName', 100);
    const roomOwner = requiredString(o, 'roomOwner', 100);
    const maxSize = requiredInteger(o, 'maxSize', 2, this.o.maxRoomSize);
    const hours = optionalNumber(o, 'expiresIn', 1 / 60, this.o.roomExpiryHours.max) ?? this.o.roomExpiryHours.default;
    const now = this.o.now();
    // Each room is kept until it expires: one Hawk session may not fill the store with them.
    if (this.o.limits.roomsPerHawkSession !== Infinity && (await this.o.store.countLiveRooms(caller.idHmac, now)) >= this.o.limits.roomsPerHawkSession) {
      throw tooManyRequests(QUOTA_RETRY_AFTER_SECONDS);
    }
    const room: RoomRecord = {
      token: randomBytes(8).toString('base64url'),
      name: roomName,
      owner: roomOwner,
      ownerHmac: caller.idHmac,
      maxSize,
      createdAt: now,
      expiresAt: now + Math.round(hours * 3600_000),
    };
    await this.o.store.createRoom(room);
    return { status: 201, body: { roomToken: room.token, roomUrl: `${this.o.webAppUrl}${room.token}`, expiresAt: Math.floor(room.expiresAt / 1000) } };
  }

  async roomInfo(caller: Caller, room: RoomRecord): Promise<Answer> {
    if (caller.scheme === 'none') throw errors.unauthorized();
    const now = this.o.now();
    const open = (await this.o.store.openSessions(room.token)).filter((s) => s.expiresAt > now);
    const isOwner = caller.scheme === 'hawk' && caller.idHmac === room.ownerHmac;
    const isParticipant = open.some((s) => (caller.scheme === 'hawk' ? s.participantHmac === caller.idHmac : s.id === caller.session.id));
    if (!isOwner && !isParticipant) throw errors.notInRoom("Can't read a room you aren't in.");
    return {
      status: 200,
      body: {
        roomToken: room.token,
        roomName: room.name,
        roomOwner: room.owner,
        maxSize: room.maxSize,
        expiresAt: Math.floor(room.expiresAt / 1000),
        participants: open.map((s) => ({ roomConnectionId: s.id, displayName: s.displayName ?? '', owner: s.owner })),
      },
    };
  }

  async deleteRoom(caller: Caller, room: RoomRecord): Promise<Answer> {
    if (caller.scheme === 'none') throw errors.unauthorized();
    if (caller.scheme !== 'hawk' || caller.idHmac !== room.ownerHmac) throw errors.notOwner();
    await this.o.store.deleteRoom(room.token, this.o.now());
    return { status: 204 };
  }

  /**
   * POST /rooms/:token, the body already a JSON object. `idempotencyKey`: the request's Idempotency-Key header, as
   * received (a status report stored with a key is stored once per session and key; a repeat answers 204 unjudged).
   */
  async roomAction(caller: Caller, room: RoomRecord, o: Record<string, unknown>, idempotencyKey?: string | string[]): Promise<{ action: Action; answer: Answer }> {
    const action = actionOf(o);
    if (caller.scheme === 'none' && action !== 'join') throw errors.unauthorized();
    switch (action) {
      case 'join':
        return { action, answer: await this.join(caller, room, o) };
      case 'status':
        return { action, answer: await this.status(caller, room, statusFields(o), idempotencyKeyOf(idempotencyKey)) };
      case 'refresh':
        return { action, answer: await this.refresh(caller, room) };
      case 'leave':
        return { action, answer: await this.leave(caller, room) };
    }
  }

  private async join(caller: Caller, room: RoomRecord, o: Record<string, unknown>): Promise<Answer> {
    const displayName = requiredString(o, 'displayName', 100);
    const clientMaxSize = requiredInteger(o, 'clientMaxSize', 0, Number.MAX_SAFE_INTEGER);
    const sessionToken = randomHex(32);
    const tokenHmac = this.o.hmacs.token(sessionToken);
    let participantHmac: string;
    let kind: SessionRecord['kind'];
    /** The session a Basic rejoin replaces. */
    let rejoining: string | undefined;
    if (caller.scheme === 'hawk') {
      participantHmac = caller.idHmac;
      kind = 'hawk';
    } else if (caller.scheme === 'basic' && caller.session.room === room.token && caller.session.kind === 'basic') {
      // Basic credentials of a live standalone session of this room: a rejoin of that participant. An ended (or
      // expired) session's token joins nothing (spec section 7), and a Hawk user's session token never stands for
      // its Hawk identity: that would let a leaked, expired token evict the owner and take `owner: true`.
      if (caller.session.endedAt !== undefined || caller.session.expiresAt <= this.o.now()) throw errors.notInRoom();
      participantHmac = caller.session.participantHmac;
      kind = caller.session.kind;
      rejoining = caller.session.id;
    } else if (caller.scheme === 'basic' && (caller.session.endedAt !== undefined || caller.session.expiresAt <= this.o.now())) {
      throw errors.notInRoom();
    } else {
      participantHmac = tokenHmac;
      kind = 'basic';
    }
    const now = this.o.now();
    const ttl = this.o.participantTtlMs;
    const created = await this.o.store.joinRoom<ApiError | NewSession>(room.token, ({ room: current, open }) => {
      const end: Array<{ id: string; reason: 'expired' | 'rejoined'; at: number }> = [];
      const live = open.filter((s) => {
        if (s.expiresAt > now) return true;
        end.push({ id: s.id, reason: 'expired', at: s.expiresAt });
        return false;
      });
      // Decided on the rows as they are now: a rejoin that another (concurrent) rejoin already ended joins nothing.
      if (rejoining !== undefined && !live.some((s) => s.id === rejoining)) return { kind: 'refuse', value: errors.notInRoom() };
      for (const s of live) if (s.participantHmac === participantHmac) end.push({ id: s.id, reason: 'rejoined', at: now });
      const others = live.filter((s) => s.participantHmac !== participantHmac);
      const owner = current.ownerHmac === participantHmac;
      // loop-server's getClientMaxSize/canJoinRoom (routes/rooms.js): the room holds no more than any participant
      // already in it can show. The joiner's own clientMaxSize is not in it (that is errno 121, below). A session
      // stored before schema version 9 has no value: it lowers nothing.
      const size = others.reduce((m, s) => (s.clientMaxSize === undefined ? m : Math.min(m, s.clientMaxSize)), current.maxSize);
      // A spot is always kept for the owner.
      const capacity = owner || others.some((s) => s.owner) ? size : size - 1;
      if (others.length >= capacity) return { kind: 'refuse', value: errors.roomFull() };
      if (clientMaxSize <= others.length) return { kind: 'refuse', value: errors.clientMaxSize() };
      const session: NewSession = {
        id: randomUUID(),
        room: current.token,
        kind,
        participantHmac,
        tokenHmac,
        displayName,
        clientMaxSize,
        owner,
        joinedAt: now,
        expiresAt: now + ttl,
        snapshot: { state: 'init', ...ZERO_COUNTERS },
        firstReached: { init: now },
        reportCount: 0,
        nonConformantCount: 0,
      };
      return { kind: 'apply', value: session, end, create: session };
    });
    if (created === undefined) throw errors.roomNotFound();
    if (created instanceof ApiError) throw created;
    return {
      status: 200,
      body: { sessionToken, expires: Math.round(ttl / 1000), roomConnectionId: created.id, ...(this.o.media ?? {}) },
    };
  }

  /** The caller's session in this room as far as credentials tell (open or not); undefined when none. */
  private async sessionOf(caller: Caller, room: RoomRecord): Promise<SessionRecord | undefined> {
    if (caller.scheme === 'basic') return caller.session.room === room.token ? caller.session : undefined;
    if (caller.scheme === 'hawk') return this.o.store.openSessionOf(room.token, caller.idHmac);
    return undefined;
  }

  /**
   * A unit of work on the caller's open session: an ended one refuses with `gone`, an expired one is
   * ended (reason 'expired') and refuses with `gone`; else `apply` decides.
   */
  private async onSession<T>(
    caller: Caller,
    room: RoomRecord,
    gone: () => ApiError,
    apply: (s: SessionRecord, now: number, seen: SeenKey) => { value: T; changes?: Partial<SessionRecord>; report?: NewReport } | ApiError,
    options: UpdateOptions = {},
  ): Promise<T> {
    const s = await this.sessionOf(caller, room);
    if (!s) throw gone();
    const result = await this.o.store.updateSession<T | ApiError>(s.id, (cur, seen) => {
      const now = this.o.now();
      if (cur.endedAt !== undefined) return { kind: 'refuse', value: gone() };
      if (cur.expiresAt <= now) return { kind: 'apply', value: gone(), changes: { endedAt: cur.expiresAt, endReason: 'expired', endState: cur.snapshot.state } };
      const a = apply(cur, now, seen);
      if (a instanceof ApiError) return { kind: 'refuse', value: a };
      return { kind: 'apply', value: a.value, changes: a.changes as SessionChanges, report: a.report };
    }, { ...options, known: s, ...(caller.scheme === 'hawk' && caller.nonce ? { nonce: caller.nonce } : {}) });
    if (result === undefined) throw gone();
    if (result instanceof ApiError) throw result;
    return result;
  }

  private async status(caller: Caller, room: RoomRecord, fields: StatusFields, idempotencyKey: string | undefined): Promise<Answer> {
    try {
      return await this.storeStatus(caller, room, fields, idempotencyKey);
    } catch (err) {
      if (!(err instanceof NonceReplayedError) || idempotencyKey === undefined || caller.scheme !== 'hawk' || !caller.nonce) throw err;
      // The same signed request again: a proxy passed it on to another process after the first stored it and failed
      // before answering. If its key holds this very report, the first answer (the nonce did its work: nothing is
      // stored twice); anything else is the replay it looks like.
      const nonce = caller.nonce;
      const { nonce: _claimed, ...withoutNonce } = caller;
      await this.onSession<'repeat'>(withoutNonce, room, errors.notInRoom, (_cur, now, seen) => this.repeatOf(seen, fields, now) ?? errors.unauthorized(), { idempotencyKey });
      nonce.claimed = true;
      return { status: 204 };
    }
  }

  /** The first answer to a report its key already holds (the participation extended), or undefined. */
  private repeatOf(seen: SeenKey, fields: StatusFields, now: number): { value: 'repeat'; changes: Partial<SessionRecord> } | undefined {
    return seen.repeated && sameStatusFields(seen.fields, fields) ? { value: 'repeat', changes: { expiresAt: now + this.o.participantTtlMs } } : undefined;
  }

  private async storeStatus(caller: Caller, room: RoomRecord, fields: StatusFields, idempotencyKey: string | undefined): Promise<Answer> {
    await this.onSession<NewReport['labels'] | 'repeat'>(caller, room, errors.notInRoom, (cur, now, seen) => {
      // Stored before under this key (the client retried a report whose answer it did not get): its first answer.
      // The key reused for another report is no retry: refused (422), nothing stored or counted, never dropped silently.
      if (seen.repeated) return this.repeatOf(seen, fields, now) ?? errors.idempotencyKeyReused();
      if (cur.reportCount >= this.o.limits.reportsPerSession) return tooManyRequests(QUOTA_RETRY_AFTER_SECONDS);
      const check = checkReport(cur.snapshot, fields);
      if (this.o.strict && check.verdict !== 'conformant') return errors.invalid(`Invalid event '${fields.event}' for state '${cur.snapshot.state}'.`);
      const firstReached = { ...cur.firstReached };
      for (const state of reachedStates(cur.snapshot, fields.event, check)) if (firstReached[state] === undefined) firstReached[state] = now;
      const verdict: Verdict = check.verdict;
      const labels = { from: cur.snapshot.state, event: eventLabel(fields.event), state: stateLabel(fields.state), verdict };
      return {
        value: labels,
        changes: {
          expiresAt: now + this.o.participantTtlMs,
          snapshot: check.next,
          firstReached,
          nonConformantCount: cur.nonConformantCount + (verdict === 'conformant' ? 0 : 1),
        },
        report: { receivedAt: now, fromState: cur.snapshot.state, fields, verdict, ...(check.expected ? { expected: check.expected } : {}), labels },
      };
    }, idempotencyKey === undefined ? {} : { idempotencyKey });
    return { status: 204 };
  }

  private async refresh(caller: Caller, room: RoomRecord): Promise<Answer> {
    const ttl = this.o.participantTtlMs;
    return this.onSession<Answer>(caller, room, errors.expired, (_cur, now) => ({
      value: { status: 200, body: { expires: Math.round(ttl / 1000) } },
      changes: { expiresAt: now + ttl },
    }));
  }

  private async leave(caller: Caller, room: RoomRecord): Promise<Answer> {
    return this.onSession<Answer>(caller, room, errors.notInRoom, (cur, now) => ({
      value: { status: 204 },
      changes: { endedAt: now, endReason: 'left', endState: cur.snapshot.state },
    }));
  }
}

/**
 * The states a report took its session to: for a conformant one every state the machine went through (waiting
 * --Session.connectionCreated--> starting -> sending reaches starting too, as the diagram draws it); otherwise the
 * state it settled in. The funnel counts each the first time (D-155).
 */
function reachedStates(before: SessionRecord['snapshot'], event: string, check: ReturnType<typeof checkReport>): RoomState[] {
  const settled = check.next.state as RoomState;
  if (check.verdict !== 'conformant' || settled === before.state) return [settled];
  const passed = firedCandidates(before.state as RoomState, before, event, check.next).flatMap((c) => (c.target ? [c.target] : []));
  return passed.includes(settled) ? passed : [...passed, settled];
}

