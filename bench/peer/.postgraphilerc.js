// Options of the benchmark's PostGraphile, which its CLI reads from the directory it starts in
// (bench/run starts it in bench/peer).
//
// PostGraphile sends every query as a named prepared statement, and after five executions
// PostgreSQL may keep a generic plan for it, made without the parameters' values. For the
// operator's list (the operation Queue of bench/load) that plan is far slower than a plan made
// with the values: its hasNextPage subquery, an EXISTS over the office's tickets of the status,
// cannot use the partial index tickets_open_due (the planner cannot prove that an unknown status
// is an open one) and walks the covering index tickets_statistics from the tenant's oldest ticket
// instead, about 950,000 entries before the first ticket in progress; and for an office with no
// ticket in progress the list itself reads the whole tenant through tickets_list instead of
// reading the office's tickets through tickets_office. Sportello's list statement is planned
// with its values at every call, because its LIMIT is a parameter and the generic plan's
// estimate is then the higher one. The peer gets the same: the operations named here run with
// plan_cache_mode set to force_custom_plan for their request's transaction. The other
// operations keep PostgreSQL's default, as Sportello's statements do.
const plannedWithValues = new Set(['Queue']);

module.exports = {
  options: {
    pgSettings(req) {
      const body = req.body || {};
      const named = /^\s*query\s+(\w+)/.exec(typeof body.query === 'string' ? body.query : '');
      const operation = body.operationName || (named && named[1]);
      return plannedWithValues.has(operation) ? { plan_cache_mode: 'force_custom_plan' } : {};
    },
  },
};
