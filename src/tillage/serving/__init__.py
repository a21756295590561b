"""What the JSON API (:mod:`tillage.api`) and the dashboard pages (:mod:`tillage.web`) share:
authentication and authorization (:mod:`~tillage.serving.auth`), request dependencies
(:mod:`~tillage.serving.deps`), route guards (:mod:`~tillage.serving.scope`) and the one error
shape (:mod:`~tillage.serving.errors`). It sits below both, so neither imports the other; the app
factory :mod:`tillage.server` mounts them side by side."""
