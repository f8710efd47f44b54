/*
 * facts.h - what the store knows about one recipient for one list: its
 * consent and every suppression that covers it, in lookup order.  The
 * store fills it (store_facts), the policy reads it (policy_decide);
 * neither knows the other.
 */
#ifndef FACTS_H
#define FACTS_H

#include "core/addr.h"
#include "core/record.h"

#define POLICY_SUPP_MAX	8	/* suppressions kept per lookup, in lookup order */

/* Where a fact was found. */
#define FACT_EXACT	0	/* the address as given */
#define FACT_BASE	1	/* the address without its +tag */
#define FACT_DOMAIN	2	/* the domain or a parent domain */

struct policy_fact_supp {
	struct supp_view v;
	int	where;			/* FACT_* */
	char	key[ADDR_MAX + 2];	/* the key it was found under */
};

struct policy_facts {
	int	has_consent;
	int	consent_where;		/* FACT_EXACT or FACT_BASE */
	struct consent_view consent;	/* for the list asked about */
	unsigned nsupp;
	struct policy_fact_supp supp[POLICY_SUPP_MAX];
};

#endif
