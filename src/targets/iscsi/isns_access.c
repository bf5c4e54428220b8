/* iSNS access control's memory: see isns_access.h. */
#include "targets/iscsi/isns_access.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/list.h"

struct isns_acl {
	struct list_head entry;
	char *tgt_name;
	char **initiators;
	unsigned n;
};

static pthread_mutex_t acl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head acls = LIST_HEAD_INIT(acls);
static bool enforce;

static void acl_free_names(char **names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static struct isns_acl *acl_find(const char *tgt_name)
{
	struct isns_acl *a;

	list_for_each_entry(a, &acls, entry)
		if (strcmp(a->tgt_name, tgt_name) == 0)
			return a;
	return NULL;
}

int isns_access_set(const char *tgt_name, char *const *initiators, unsigned n)
{
	char **copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (!(copy[i] = strdup(initiators[i]))) {
			acl_free_names(copy, i);
			return -1;
		}
	}
	pthread_mutex_lock(&acl_lock);
	struct isns_acl *a = acl_find(tgt_name);
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (a && !(a->tgt_name = strdup(tgt_name))) {
			free(a);
			a = NULL;
		}
		if (!a) {
			pthread_mutex_unlock(&acl_lock);
			acl_free_names(copy, n);
			return -1;
		}
		list_add_tail(&a->entry, &acls);
	}
	acl_free_names(a->initiators, a->n);
	a->initiators = copy;
	a->n = n;
	pthread_mutex_unlock(&acl_lock);
	return 0;
}

void isns_access_reset(bool on)
{
	pthread_mutex_lock(&acl_lock);
	while (!list_empty(&acls)) {
		struct isns_acl *a = list_first_entry(&acls, struct isns_acl, entry);
		list_del(&a->entry);
		acl_free_names(a->initiators, a->n);
		free(a->tgt_name);
		free(a);
	}
	enforce = on;
	pthread_mutex_unlock(&acl_lock);
}

bool isns_access_allowed(const char *tgt_name, const char *initiator, char *why, size_t whylen)
{
	bool ok = false;

	pthread_mutex_lock(&acl_lock);
	if (!enforce) {
		ok = true;
	} else {
		struct isns_acl *a = acl_find(tgt_name);
		if (!a) {
			snprintf(why, whylen, "isns_access_control: no iSNS answer yet for target %s",
				 tgt_name);
		} else {
			for (unsigned i = 0; i < a->n && !ok; i++)
				ok = strcmp(a->initiators[i], initiator) == 0;
			if (!ok)
				snprintf(why, whylen,
					 "isns_access_control: initiator %s shares no iSNS "
					 "discovery domain with target %s", initiator, tgt_name);
		}
	}
	pthread_mutex_unlock(&acl_lock);
	return ok;
}
