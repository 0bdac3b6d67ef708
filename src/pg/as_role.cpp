// call_as_role: a function called as another role, with its settings rolled back after.
#include "as_role.h"

extern "C" {
#include "utils/guc.h"
}

#include <cstring>

namespace geoetl::pg {

Datum call_as_role(Oid fn, Oid role, int extra_context, std::initializer_list<Datum> args,
                   bool* isnull, std::initializer_list<const char*> carry_out) {
  const int nest = NewGUCNestLevel();
  Datum result = (Datum)0;
  *isnull = true;
  run_as_role(role, extra_context, [&] {
    LOCAL_FCINFO(call, FUNC_MAX_ARGS);
    FmgrInfo flinfo;
    fmgr_info(fn, &flinfo);
    InitFunctionCallInfoData(*call, &flinfo, static_cast<short>(args.size()), InvalidOid, nullptr,
                             nullptr);
    int i = 0;
    for (const Datum arg : args) {
      call->args[i].value = arg;
      call->args[i++].isnull = false;
    }
    result = FunctionCallInvoke(call);
    *isnull = call->isnull;
  });
  char** kept = static_cast<char**>(palloc(sizeof(char*) * (carry_out.size() + 1)));
  int n = 0;
  for (const char* name : carry_out) {
    const char* value = GetConfigOption(name, true, false);
    kept[n++] = pstrdup(value != nullptr ? value : "");
  }
  AtEOXact_GUC(false, nest);  // every setting back as it was before fn
  n = 0;
  for (const char* name : carry_out) {  // set again only what fn changed
    const char* now = GetConfigOption(name, true, false);
    if (strcmp(now != nullptr ? now : "", kept[n]) != 0)
      (void)set_config_option(name, kept[n], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0,
                              false);
    n++;
  }
  return result;
}

}  // namespace geoetl::pg
