variable "cluster_name" { type = string }
variable "name" { type = string }
variable "subnet_ids" { type = list(string) }
variable "min_size" { type = number }
variable "max_size" { type = number }
variable "instance_type" { type = string }
variable "image_id" {
  type    = string
  default = "ami-0123456789abcdef0"
}
variable "use_mixed_instances_policy" {
  type    = bool
  default = false
}
variable "on_demand_percentage" {
  type    = number
  default = 100
}
variable "instance_refresh" {
  type    = any
  default = {}
}

resource "aws_launch_template" "this" {
  name_prefix   = "${var.name}-"
  image_id      = var.image_id
  instance_type = var.use_mixed_instances_policy ? null : var.instance_type

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 50
      encrypted   = true
    }
  }

  metadata_options {
    http_tokens = "required"
  }
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-"
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.min_size
  vpc_zone_identifier = var.subnet_ids

  dynamic "launch_template" {
    for_each = var.use_mixed_instances_policy ? [] : [1]
    content {
      id      = aws_launch_template.this.id
      version = "$Latest"
    }
  }

  dynamic "mixed_instances_policy" {
    for_each = var.use_mixed_instances_policy ? [1] : []
    content {
      instances_distribution {
        on_demand_base_capacity                  = 0
        on_demand_percentage_above_base_capacity = var.on_demand_percentage
        spot_allocation_strategy                 = "price-capacity-optimized"
      }
      launch_template {
        launch_template_specification {
          launch_template_id = aws_launch_template.this.id
          version            = "$Latest"
        }
        override {
          instance_type = var.instance_type
        }
      }
    }
  }

  dynamic "instance_refresh" {
    for_each = length(var.instance_refresh) > 0 ? [var.instance_refresh] : []
    content {
      strategy = instance_refresh.value.strategy
      preferences {
        min_healthy_percentage = try(instance_refresh.value.min_healthy_percentage, 66)
      }
    }
  }

  dynamic "tag" {
    for_each = {
      "Name"                                      = var.name
      "kubernetes.io/cluster/${var.cluster_name}" = "owned"
    }
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}
