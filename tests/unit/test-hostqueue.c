/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-receiver admission: a bound per key, the rest waiting in order. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostqueue.h"

static void test_up_to_the_limit_start_at_once(void **state) {
        struct hostqueue *q;
        int items[3];

        assert_int_equal(hostqueue_new(2, &q), 0);
        assert_int_equal(hostqueue_admit(q, "https://a:443", &items[0]), 1);
        assert_int_equal(hostqueue_admit(q, "https://a:443", &items[1]), 1);
        assert_int_equal(hostqueue_admit(q, "https://a:443", &items[2]), 0);
        assert_int_equal(hostqueue_active(q, "https://a:443"), 2);
        assert_int_equal(hostqueue_waiting(q, "https://a:443"), 1);
        assert_true(hostqueue_forget(q, "https://a:443", &items[2]));
        hostqueue_free(q);
}

static void test_a_busy_receiver_does_not_hold_up_another(void **state) {
        struct hostqueue *q;
        int items[4];

        assert_int_equal(hostqueue_new(1, &q), 0);
        assert_int_equal(hostqueue_admit(q, "https://slow:443", &items[0]), 1);
        assert_int_equal(hostqueue_admit(q, "https://slow:443", &items[1]), 0);
        assert_int_equal(hostqueue_admit(q, "https://slow:443", &items[2]), 0);
        assert_int_equal(hostqueue_admit(q, "https://fast:443", &items[3]), 1);
        assert_int_equal(hostqueue_admit(q, "https://slow:8443", &items[3]), 1);
        assert_null(hostqueue_release(q, "https://fast:443"));
        assert_null(hostqueue_release(q, "https://slow:8443"));
        assert_ptr_equal(hostqueue_release(q, "https://slow:443"), &items[1]);
        assert_ptr_equal(hostqueue_release(q, "https://slow:443"), &items[2]);
        assert_null(hostqueue_release(q, "https://slow:443"));
        assert_int_equal(hostqueue_active(q, "https://slow:443"), 0);
        hostqueue_free(q);
}

static void test_waiting_ones_start_in_order_as_places_free(void **state) {
        struct hostqueue *q;
        int items[5];

        assert_int_equal(hostqueue_new(2, &q), 0);
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(hostqueue_admit(q, "k", &items[i]), i < 2);
        assert_ptr_equal(hostqueue_release(q, "k"), &items[2]);
        assert_int_equal(hostqueue_active(q, "k"), 2);
        assert_int_equal(hostqueue_waiting(q, "k"), 2);
        /* An aborted waiting transfer leaves the line. */
        assert_true(hostqueue_forget(q, "k", &items[3]));
        assert_false(hostqueue_forget(q, "k", &items[3]));
        assert_false(hostqueue_forget(q, "k", &items[0]));
        assert_ptr_equal(hostqueue_release(q, "k"), &items[4]);
        assert_null(hostqueue_release(q, "k"));
        assert_null(hostqueue_release(q, "k"));
        assert_int_equal(hostqueue_active(q, "k"), 0);
        assert_int_equal(hostqueue_waiting(q, "k"), 0);
        /* An idle receiver is forgotten; a new one starts from nothing. */
        assert_int_equal(hostqueue_admit(q, "k", &items[0]), 1);
        hostqueue_free(q);
}

/* A claim reserves room per receiver: in progress, waiting and reserved
 * together stay under the bound it asks for; admitting uses a reservation
 * up, unreserving drops the rest. */
static void test_reservations_bound_what_a_receiver_may_hold(void **state) {
        struct hostqueue *q;
        int items[4];

        assert_int_equal(hostqueue_new(1, &q), 0);
        assert_int_equal(hostqueue_admit(q, "slow", &items[0]), 1);
        assert_int_equal(hostqueue_admit(q, "slow", &items[1]), 0);
        assert_int_equal(hostqueue_reserve(q, "slow", 3), 1);
        assert_int_equal(hostqueue_reserve(q, "slow", 3), 0);
        assert_int_equal(hostqueue_reserve(q, "fast", 3), 1);
        assert_int_equal(hostqueue_load(q, "slow"), 3);
        assert_int_equal(hostqueue_n_loaded(q), 2);
        /* The reserved one arrives: still three, nothing more to reserve. */
        assert_int_equal(hostqueue_admit(q, "slow", &items[2]), 0);
        assert_int_equal(hostqueue_load(q, "slow"), 3);
        assert_int_equal(hostqueue_reserve(q, "slow", 3), 0);
        /* One goes: room for one more. */
        assert_ptr_equal(hostqueue_release(q, "slow"), &items[1]);
        assert_int_equal(hostqueue_reserve(q, "slow", 3), 1);
        hostqueue_unreserve(q);
        assert_int_equal(hostqueue_load(q, "slow"), 2);
        assert_int_equal(hostqueue_load(q, "fast"), 0);
        assert_int_equal(hostqueue_n_loaded(q), 1);
        /* A receiver refused or unreserved with nothing under way is
         * forgotten, as an idle one is. */
        assert_int_equal(hostqueue_reserve(q, "idle", 0), 0);
        assert_int_equal(hostqueue_load(q, "idle"), 0);
        assert_true(hostqueue_forget(q, "slow", &items[2]));
        assert_null(hostqueue_release(q, "slow"));
        assert_int_equal(hostqueue_load(q, "slow"), 0);
        hostqueue_free(q);
}

static void test_free_with_waiting_items_releases_its_own_memory(void **state) {
        struct hostqueue *q;
        int items[3];

        assert_int_equal(hostqueue_new(1, &q), 0);
        for (size_t i = 0; i < 3; i++)
                assert_true(hostqueue_admit(q, "k", &items[i]) >= 0);
        assert_null(hostqueue_free(q));
        assert_null(hostqueue_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_up_to_the_limit_start_at_once),
                cmocka_unit_test(test_a_busy_receiver_does_not_hold_up_another),
                cmocka_unit_test(test_waiting_ones_start_in_order_as_places_free),
                cmocka_unit_test(test_reservations_bound_what_a_receiver_may_hold),
                cmocka_unit_test(test_free_with_waiting_items_releases_its_own_memory),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
