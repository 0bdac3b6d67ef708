// geoetl._run_handler(): runs a job's handler as the role that enqueued the job, the way
// PostgreSQL runs maintenance code as a table's owner (see ExecRefreshMatView): the user id
// switched, a security-restricted operation (no SET ROLE, no temporary objects, no cursors held
// open) and a GUC nest level of its own, rolled back after the handler: no setting it makes
// (search_path, default_transaction_isolation, ...) reaches the next job or the worker's session.
// Only the job's progress message is carried out.
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "args.h"
#include "as_role.h"

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_run_handler);
Datum geoetl_run_handler(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs sql_args(fcinfo);
  sql_args.require({{0, "handler"}, {1, "args"}, {2, "role"}});
  const Oid handler = sql_args.oid(0, "handler");
  const Datum args = sql_args.datum(1, "args");  // jsonb, passed on as it is
  const Oid role = sql_args.oid(2, "role");
  HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(handler));
  if (!HeapTupleIsValid(proc))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                    errmsg("the handler of this job's kind no longer exists"),
                    errhint("Register the kind again with geoetl.register_job_kind.")));
  const Oid owner = reinterpret_cast<Form_pg_proc>(GETSTRUCT(proc))->proowner;
  ReleaseSysCache(proc);
  if (!OidIsValid(role) || !SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("the role that enqueued this job no longer exists")));
  // A worker runs the jobs of roles it could become itself.
  if (!has_privs_of_role(GetUserId(), role))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("role \"%s\" may not run jobs of role \"%s\"",
                           GetUserNameFromId(GetUserId(), false), GetUserNameFromId(role, false)),
                    errhint("Run the worker as a superuser (as pg_cron does for a superuser's "
                            "jobs) or as a member of the roles that enqueue.")));
  // A superuser's job runs only handlers a superuser owns: no one else's code as superuser.
  if (superuser_arg(role) && !superuser_arg(owner))
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("a superuser's job does not run a handler owned by \"%s\", who is not one",
                    GetUserNameFromId(owner, false)),
             errhint("Have a superuser own the handler, or enqueue the job as another role.")));
  if (pg_proc_aclcheck(handler, role, ACL_EXECUTE) != ACLCHECK_OK)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("role \"%s\" may not execute %s", GetUserNameFromId(role, false),
                           format_procedure(handler))));
  bool isnull = true;
  const Datum result = geoetl::pg::call_as_role(handler, role, SECURITY_RESTRICTED_OPERATION,
                                                {args}, &isnull, {"geoetl.job_progress"});
  if (isnull) PG_RETURN_NULL();
  PG_RETURN_DATUM(result);
}

}  // extern "C"
