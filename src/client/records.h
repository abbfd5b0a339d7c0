/* records.h - liblever's parameter and change records, built from the JSON
 * the SSM and Lever operations answer. */
#ifndef LV_CLIENT_RECORDS_H
#define LV_CLIENT_RECORDS_H

#include <jansson.h>

#include "lever/lever.h"

/* A record from a Parameter / ParameterMetadata / history object; NULL when
 * out of memory or when obj has no Name. Free with lever_param_free. */
lever_param *lvc_param_from_json(const json_t *obj);

/* A list from an array of such objects (sorted by name when sort). NULL
 * when out of memory. */
lever_param_list *lvc_param_list_from_json(const json_t *arr, bool sort);

/* A change list from the Changes array of a WatchParameters answer. */
lever_change_list *lvc_change_list_from_json(const json_t *arr);

#endif
