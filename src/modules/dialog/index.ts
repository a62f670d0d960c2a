// The dialog module (Kamailio's dialog): dlg_manage and the dialog states, $dlg / $dlg_var, the
// dialog:start / dialog:end / dialog:failed event routes, timeouts, keepalives and profiles.
// See README.md.
import type { ModuleDefinition } from "../../core/module.js";
import type { DialogApi, DialogParams } from "./api-types.js";
import { createDialogModule } from "./dialog-module.js";
import { DIALOG_PARAMS, validateDialogParams } from "./params.js";

/** The dialog module definition (registered in src/builtin-modules.ts). */
export const dialogModule: ModuleDefinition<DialogParams, DialogApi> = {
  name: "dialog",
  pvs: ["dlg", "dlg_var"],
  ctxName: "dialog",
  params: DIALOG_PARAMS,
  validate: validateDialogParams,
  events: ["dialog:start", "dialog:end", "dialog:failed"],
  create: createDialogModule,
};

export type { DialogModuleInstance } from "./dialog-module.js";
export type {
  ByeSide,
  DialogApi,
  DialogEndReason,
  DialogEventInfo,
  DialogParams,
  DialogRecord,
  DialogSide,
  DialogStateNumber,
} from "./api-types.js";
