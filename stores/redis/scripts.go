package redisstore

import "github.com/redis/go-redis/v9"

// The scripts run whole or not at all (Redis runs one script at a time and
// a script that fails before its first write has written nothing), which is
// what makes each operation one unit and one round trip. Each ends with the
// same reply shape, {status, value, ...}, read by reply.
//
// Statuses.
const (
	statusOK      = 0
	statusGap     = 1 // Save: value is the stored last seq
	statusTrimmed = 2 // Events: value is the oldest seq kept
	statusMissing = 3 // Events: no such session
	statusFull    = 4 // PutFile: value is the bytes held
	statusReplay  = 5 // Save: a replay of the last batch went in
	statusFenced  = 6 // Save: another instance owns the session now
	statusOwned   = 7 // Claim: another instance owns it; value is its lease's ms left
	statusLost    = 8 // Renew: the lease is someone else's now
)

// saveScript writes a session's record and events after checking that the
// events follow the stored ones.
//
// KEYS: 1 session hash (rec, last, bf, exp, hasrec, act, fence), 2 event list,
// 3 file hash, 4 session index (zset), 5 file index (zset), 6 the
// session's owner lease ("instance|fence"), 7 running chats (zset).
// ARGV: 1 the writer's lease ("instance|fence"; "" for a store no instances
// share), 2 tag, 3 ttl ms, 4 tail, 5 first seq of the batch (0: no events),
// 6 record JSON ("" keeps the stored one), 7 "1" a chat runs, "0" none, ""
// unknown (no record), 8 the channel to PUBLISH the new last seq on ("":
// none), 9 the bound on the bytes of the session's events (0: none),
// 10.. event JSONs.
//
// The session hash's eb is the sum of the stored events' lengths: past the
// tail or past ARGV[9], the oldest events are popped, the newest always
// kept. A session saved before the store counted has no eb: its list is
// counted once.
//
// Fencing: a writer whose lease is not the one in KEYS[6] (it expired and
// another instance claimed the session) is refused before any write.
//
// A batch whose reply was lost (a timeout after Redis ran the script) is
// saved again by the engine, perhaps with newer events after it; bf, the
// first seq of the last batch applied, lets that replay through instead of
// failing with a gap forever: same first seq, covering the stored log's
// end, and byte-equal events where they overlap. Anything else that does
// not follow the log is a gap.
var saveScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[1] then
  return {6, 0}
end
local h = redis.call('HMGET', KEYS[1], 'last', 'exp', 'hasrec', 'act', 'eb')
local last = tonumber(h[1] or '0')
local first = tonumber(ARGV[5])
local n = #ARGV - 9
local skip = 0
if n > 0 and last ~= 0 and first ~= last + 1 then
  local bf = tonumber(redis.call('HGET', KEYS[1], 'bf') or '-1')
  skip = last - first + 1
  if first ~= bf or skip < 1 or skip > n then
    return {1, last}
  end
  local stored = redis.call('LRANGE', KEYS[2], -skip, -1)
  if #stored ~= skip then
    return {1, last}
  end
  for i = 1, skip do
    if stored[i] ~= ARGV[9 + i] then
      return {1, last}
    end
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local hasrec = h[3] == '1'
-- The session's keys live ttl after its last save. Moving their expiry
-- costs five commands, so it moves at most every ttl/10 (a minute at
-- most): a session lives between ttl - ttl/10 and ttl after its last save.
local exp = tonumber(h[2] or '0')
local every = math.min(60000, math.floor(ttl / 10))
local refresh = now + ttl - exp >= every or (ARGV[6] ~= '' and not hasrec)
-- Every field of the session hash this save changes, set in one HSET.
local set = {}
if ARGV[6] ~= '' then
  set[#set + 1] = 'rec'
  set[#set + 1] = ARGV[6]
end
-- The running-chats index, scored by the last save, needs a new score
-- only as often as the expiry moves (Orphans drops entries older than
-- the ttl), or when the chat starts or ends (h[4], 'act', says which was
-- last written).
if ARGV[7] == '1' and (h[4] ~= '1' or refresh) then
  redis.call('ZADD', KEYS[7], now, ARGV[2])
  set[#set + 1] = 'act'
  set[#set + 1] = '1'
elseif ARGV[7] == '0' and h[4] ~= '0' then
  redis.call('ZREM', KEYS[7], ARGV[2])
  set[#set + 1] = 'act'
  set[#set + 1] = '0'
end
local newlist = false
if n - skip > 0 then
  local i = 10 + skip
  local len = 0
  local added = 0
  for k = i, #ARGV do
    added = added + #ARGV[k]
  end
  while i <= #ARGV do
    local j = math.min(i + 999, #ARGV)
    len = redis.call('RPUSH', KEYS[2], unpack(ARGV, i, j))
    i = j + 1
  end
  newlist = len == n - skip
  local eb = added
  if not newlist then
    if h[5] then
      eb = tonumber(h[5]) + added
    else
      eb = 0
      for _, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        eb = eb + #v
      end
    end
  end
  local tail = tonumber(ARGV[4])
  if len > tail then
    for _, v in ipairs(redis.call('LPOP', KEYS[2], len - tail)) do
      eb = eb - #v
    end
    len = tail
  end
  local maxb = tonumber(ARGV[9])
  while maxb > 0 and eb > maxb and len > 1 do
    eb = eb - #redis.call('LPOP', KEYS[2])
    len = len - 1
  end
  set[#set + 1] = 'eb'
  set[#set + 1] = eb
  last = first + n - 1
  set[#set + 1] = 'last'
  set[#set + 1] = last
  set[#set + 1] = 'bf'
  set[#set + 1] = first
elseif not h[1] then
  set[#set + 1] = 'last'
  set[#set + 1] = last
end
if refresh then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
  set[#set + 1] = 'exp'
  set[#set + 1] = now + ttl
  if hasrec or ARGV[6] ~= '' then
    redis.call('ZADD', KEYS[4], now + ttl, ARGV[2])
    set[#set + 1] = 'hasrec'
    set[#set + 1] = '1'
  end
  redis.call('ZADD', KEYS[5], 'XX', now + ttl, ARGV[2])
elseif newlist then
  redis.call('PEXPIREAT', KEYS[2], exp)
end
if #set > 0 then
  redis.call('HSET', KEYS[1], unpack(set))
end
if refresh then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if n - skip > 0 and ARGV[8] ~= '' then
  redis.call('PUBLISH', ARGV[8], last)
end
if skip > 0 then
  return {5, last}
end
return {0, last}
`)

// eventsScript reads the events after a seq.
//
// KEYS: 1 session hash, 2 event list. ARGV: 1 after seq, 2 limit (0: all).
// Reply: {0, oldest, {events}}, {2, oldest}, {3, 0}.
var eventsScript = redis.NewScript(`
local last = redis.call('HGET', KEYS[1], 'last')
if not last then
  return {3, 0}
end
last = tonumber(last)
local after = tonumber(ARGV[1])
if after >= last then
  return {0, 0, {}}
end
local oldest = last - redis.call('LLEN', KEYS[2]) + 1
if after + 1 < oldest then
  return {2, oldest}
end
local start = after + 1 - oldest
local stop = -1
local limit = tonumber(ARGV[2])
if limit > 0 then
  stop = start + limit - 1
end
return {0, oldest, redis.call('LRANGE', KEYS[2], start, stop)}
`)

// listScript drops sessions whose keys expired from the index and returns
// the tags of the others.
//
// KEYS: 1 session index.
var listScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
return {0, 0, redis.call('ZRANGE', KEYS[1], 0, -1)}
`)

// pruneFiles (a part of the file scripts) gives back the bytes of sessions
// whose files expired, and deletes what is left of them: without it, the
// byte counter would keep counting files Redis expired. Bounded per call.
//
// KEYS: 2 file index, 3 bytes per session (hash), 4 total bytes.
// ARGV: 1 key prefix ("<prefix>:{").
const pruneFiles = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, tag in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now, 'LIMIT', 0, 64)) do
  local b = tonumber(redis.call('HGET', KEYS[3], tag) or '0')
  redis.call('DECRBY', KEYS[4], b)
  redis.call('HDEL', KEYS[3], tag)
  redis.call('ZREM', KEYS[2], tag)
  redis.call('DEL', ARGV[1] .. tag .. '}:f')
end
`

// putFileScript stores a file within the bound on all files' bytes.
//
// KEYS: 1 file hash of the session, 2-4 as pruneFiles.
// ARGV: 1 key prefix, 2 tag, 3 file id, 4 info JSON, 5 data, 6 ttl ms,
// 7 bound on the total.
var putFileScript = redis.NewScript(pruneFiles + `
local old = redis.call('HSTRLEN', KEYS[1], 'd:' .. ARGV[3])
local size = string.len(ARGV[5])
local total = tonumber(redis.call('GET', KEYS[4]) or '0')
if total - old + size > tonumber(ARGV[7]) then
  return {4, total}
end
redis.call('HSET', KEYS[1], 'i:' .. ARGV[3], ARGV[4], 'd:' .. ARGV[3], ARGV[5])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
redis.call('HINCRBY', KEYS[3], ARGV[2], size - old)
redis.call('INCRBY', KEYS[4], size - old)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[2])
return {0, total - old + size}
`)

// dropFiles (a part of the delete scripts) frees a session's files and
// their bytes.
//
// KEYS: 1 file hash, 2-4 as pruneFiles. ARGV: 2 tag.
const dropFiles = `
local b = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if b ~= 0 then
  redis.call('DECRBY', KEYS[4], b)
end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
`

// deleteFilesScript: KEYS and ARGV as dropFiles.
var deleteFilesScript = redis.NewScript(dropFiles + `
return {0, b}
`)

// deleteScript forgets a session: dropFiles, then KEYS 5 session hash,
// 6 event list, 7 session index, 8 running chats.
var deleteScript = redis.NewScript(dropFiles + `
redis.call('DEL', KEYS[5], KEYS[6])
redis.call('ZREM', KEYS[7], ARGV[2])
redis.call('ZREM', KEYS[8], ARGV[2])
return {0, b}
`)

// claimScript makes an instance the owner of a session: a lease key
// "instance|fence" that expires, and a fence that grows with every new
// owner (kept in the session hash, so that it outlives the lease).
//
// KEYS: 1 lease, 2 session hash. ARGV: 1 instance, 2 lease ms, 3 session
// ttl ms (for a session hash made here).
// Reply: {0, fence}, or {7, ms left} when another instance holds it.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local inst, fence = string.match(cur, '^(.*)|(%d+)$')
  if inst == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {0, tonumber(fence)}
  end
  return {7, redis.call('PTTL', KEYS[1])}
end
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
if redis.call('PTTL', KEYS[2]) < 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
return {0, fence}
`)

// renewScript extends a lease. A lease that expired while nobody claimed
// the session (the fence is still this one) is taken again: a Redis that
// was away longer than the lease does not cost the owner its chats.
//
// KEYS: 1 lease, 2 session hash. ARGV: 1 "instance|fence", 2 fence, 3
// lease ms. Reply: {0, 0}, or {8, 0} when the lease is another's.
var renewScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {0, 0}
end
if not cur and redis.call('HGET', KEYS[2], 'fence') == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return {0, 0}
end
return {8, 0}
`)

// releaseScript ends a lease held by this writer.
//
// KEYS: 1 lease. ARGV: 1 "instance|fence".
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return {0, 0}
`)
