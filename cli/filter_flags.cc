#include "cli/filter_flags.h"

namespace cairn::cli {

void FilterFlags::Add(CLI::App* app) {
  // allow_extra_args(false): each occurrence of a list flag takes exactly
  // one value, so `--type A STREAM` never swallows the positional.
  app->add_option("--stream-prefix", stream_prefixes,
                  "Only streams starting with P (repeatable: any of them)")
      ->type_name("P")
      ->allow_extra_args(false);
  app->add_option("--stream-regex", stream_regex,
                  "Only streams matching the RE2 regex R anywhere in the name "
                  "(anchor with ^ and $)")
      ->type_name("R");
  app->add_option("--category", categories,
                  "Only streams of category C, the part of the name before "
                  "its first '-' (repeatable: any of them)")
      ->type_name("C")
      ->allow_extra_args(false);
  app->add_option("--type-prefix", type_prefixes,
                  "Only event types starting with P (repeatable: any of them)")
      ->type_name("P")
      ->allow_extra_args(false);
  app->add_option("--type-regex", type_regex,
                  "Only event types matching the RE2 regex R anywhere in the "
                  "type (anchor with ^ and $)")
      ->type_name("R");
  app->add_option("--type", types, "Only events of exactly type T (repeatable: any of them)")
      ->type_name("T")
      ->allow_extra_args(false);
}

EventFilter FilterFlags::ToFilter() const {
  EventFilter filter;
  filter.stream_prefixes = stream_prefixes;
  filter.stream_regex = stream_regex;
  filter.categories = categories;
  filter.type_prefixes = type_prefixes;
  filter.type_regex = type_regex;
  filter.types = types;
  return filter;
}

}  // namespace cairn::cli
