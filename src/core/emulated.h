/* The commands the core answers itself, for every device type. */
#ifndef USCST_CORE_EMULATED_H
#define USCST_CORE_EMULATED_H

#include "core/scst.h"

int scst_inquiry_parse(struct scst_cmd *cmd);
void scst_inquiry_exec(struct scst_cmd *cmd);
int scst_report_luns_parse(struct scst_cmd *cmd);
void scst_report_luns_exec(struct scst_cmd *cmd);
int scst_report_opcodes_parse(struct scst_cmd *cmd);
void scst_report_opcodes_exec(struct scst_cmd *cmd);
int scst_report_tmfs_parse(struct scst_cmd *cmd);
void scst_report_tmfs_exec(struct scst_cmd *cmd);
int scst_request_sense_parse(struct scst_cmd *cmd);
void scst_request_sense_exec(struct scst_cmd *cmd);
/* Reservations (pr.c, pr_in.c, reserve.c). */
int scst_pr_in_parse(struct scst_cmd *cmd);
void scst_pr_in_exec(struct scst_cmd *cmd);
int scst_pr_out_parse(struct scst_cmd *cmd);
void scst_pr_out_exec(struct scst_cmd *cmd);
int scst_reserve_parse(struct scst_cmd *cmd);
void scst_reserve_exec(struct scst_cmd *cmd);
void scst_release_exec(struct scst_cmd *cmd);

#endif
